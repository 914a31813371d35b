package signature

// Policy says whether a name's images must be signed.
type Policy uint8

// Policies. The zero value is unset, which Check treats as required: a
// caller that forgot to decide fails closed.
const (
	PolicyUnset Policy = iota
	// PolicyOptional: a failure is reported, not fatal.
	PolicyOptional
	// PolicyRequired: anything but a verified signature fails the
	// resolution — a missing, invalid or unfetchable signature, or no
	// usable key.
	PolicyRequired
)

// String returns "optional", "required" or "unset".
func (p Policy) String() string {
	switch p {
	case PolicyOptional:
		return "optional"
	case PolicyRequired:
		return "required"
	}
	return "unset"
}

// Stricter returns the stricter of p and q (required over optional, and
// unset over both, since unset checks as required). The owner's policy and
// the user's --require-signature combine this way, as do a parent's and a
// delegate's.
func (p Policy) Stricter(q Policy) Policy {
	rank := func(x Policy) int {
		switch x {
		case PolicyOptional:
			return 0
		case PolicyRequired:
			return 1
		}
		return 2
	}
	if rank(q) > rank(p) {
		return q
	}
	return p
}

// Check applies the policy to a result: nil when the signature verified,
// or when the policy is optional (the caller reports r.Err() without
// failing); otherwise r.Err(), never nil. It never fails open: under
// required (or unset) a result that is not Verified is an error whatever
// its code, including a zero Result.
func (p Policy) Check(r Result) error {
	if r.Verified || p == PolicyOptional {
		return nil
	}
	return r.Err()
}
