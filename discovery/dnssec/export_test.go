package dnssec

// JoinedComputations counts the validations that waited for a computation
// of the validator's cache another validation had started.
func JoinedComputations(v *Validator) uint64 { return v.flights.Stats().Joined }
