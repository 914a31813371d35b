package check

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity says how much a finding matters to the names under a host.
type Severity int

// Severities, in increasing order.
const (
	// Info: what was found, for the operator's confidence; nothing to fix.
	Info Severity = iota
	// Warning: clients work, but not as the operator probably intends, or
	// not for every client.
	Warning
	// Error: some names fail to discover or resolve, or resolve somewhere
	// the operator did not mean.
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalJSON encodes the severity as its name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON accepts the names String returns.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	for _, v := range []Severity{Info, Warning, Error} {
		if v.String() == name {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q", name)
}

// Finding is one thing Run found about what a host publishes.
type Finding struct {
	Severity Severity `json:"severity"`
	// Code is a stable identifier, one of the Code* constants.
	Code string `json:"code"`
	// Host is the host whose records the finding is about: the host checked,
	// or a host further down a delegation chain.
	Host string `json:"host"`
	// Record is the published record, document entry or URL at fault; ""
	// when the finding concerns no single record.
	Record string `json:"record"`
	// Message says what is wrong (or, for Info, what was found).
	Message string `json:"message"`
	// Fix says what to change; "" when there is nothing to do.
	Fix string `json:"fix"`
}

// String formats the finding on one line as `ocidns check` prints it:
// severity, code, message and, when there is one, the fix.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s  %s  %s", f.Severity, f.Code, oneLine(f.Message))
	if f.Fix != "" {
		b.WriteString(" — fix: ")
		b.WriteString(oneLine(f.Fix))
	}
	return b.String()
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

// Finding codes. Each names one kind of problem (or, for Info, one kind of
// observation); docs/operators.md lists them with their fixes.
const (
	// The host name itself.
	CodePortNoDNS = "PORT_NO_DNS" // info: a host with a port or an IP address: no DNS discovery

	// TXT records at _oci-discovery.<host>.
	CodeTXTLookupFailed    = "TXT_LOOKUP_FAILED"    // error: SERVFAIL, timeout: clients fail, no fall-through
	CodeTXTBogus           = "TXT_BOGUS"            // error: DNSSEC validation failed
	CodeTXTNone            = "TXT_NONE"             // info: no TXT records
	CodeTXTMalformed       = "TXT_MALFORMED"        // error: a v=oci1 record breaks the grammar; clients skip it
	CodeTXTIgnoredVersion  = "TXT_IGNORED_VERSION"  // warning: v=oci<N> other than oci1: ignored
	CodeTXTMissingVersion  = "TXT_MISSING_VERSION"  // warning: looks like a mapping, but v=oci1 is not first
	CodeTXTNotOCI          = "TXT_NOT_OCI"          // info: another protocol's record, ignored
	CodeTXTConflict        = "TXT_CONFLICT"         // error: two records for one prefix, not both mirrors
	CodeTXTTooLarge        = "TXT_TOO_LARGE"        // error: more records or bytes than clients read: unknown
	CodeTXTMapping         = "TXT_MAPPING"          // info: a valid mapping
	CodeNoResolveEndpoint  = "NO_RESOLVE_ENDPOINT"  // warning: every mirror of a prefix is pull-only
	CodeDuplicateMapping   = "DUPLICATE_MAPPING"    // warning: the same mapping published twice
	CodeUnauthenticated    = "UNAUTHENTICATED"      // error/warning: a cross-host mapping --dnssec on clients skip
	CodeDNSSECStatus       = "DNSSEC_STATUS"        // info: how an RRset was authenticated
	CodeDNSSECNotChecked   = "DNSSEC_NOT_CHECKED"   // info: --dnssec off: authentication not assessed
	CodeNothingPublished   = "NOTHING_PUBLISHED"    // warning: no TXT, SRV or well-known: direct only
	CodeTXTWellKnownDiffer = "TXT_WELLKNOWN_DIFFER" // warning: TXT and well-known map one prefix differently

	// SRV records at _oci-registry._tcp.<host>.
	CodeSRVLookupFailed = "SRV_LOOKUP_FAILED" // error: SERVFAIL, timeout
	CodeSRVBogus        = "SRV_BOGUS"         // error: DNSSEC validation failed
	CodeSRVMalformed    = "SRV_MALFORMED"     // error: invalid target or port 0
	CodeSRVTooLarge     = "SRV_TOO_LARGE"     // error: more records than clients read: unknown
	CodeSRVNoRegistry   = "SRV_NO_REGISTRY"   // info: target "." — no registry at this host
	CodeSRVTarget       = "SRV_TARGET"        // info: a target and its addresses
	CodeSRVUnresolved   = "SRV_UNRESOLVED"    // error: a target without addresses
	CodeSRVShadowed     = "SRV_SHADOWED"      // info: TXT maps every path first: SRV unused

	// The well-known document.
	CodeWellKnownAbsent      = "WELLKNOWN_ABSENT"      // info: 404/410
	CodeWellKnownOK          = "WELLKNOWN_OK"          // info: fetched and valid
	CodeWellKnownMapping     = "WELLKNOWN_MAPPING"     // info: a valid mapping of the document
	CodeWellKnownUnreachable = "WELLKNOWN_UNREACHABLE" // error/warning: connection, DNS or timeout failure
	CodeWellKnownTLS         = "WELLKNOWN_TLS"         // error/warning: certificate not valid for the host
	CodeWellKnownStatus      = "WELLKNOWN_STATUS"      // error/warning: a status other than 200/404/410
	CodeWellKnownTooLarge    = "WELLKNOWN_TOO_LARGE"   // error/warning: over 64 KiB
	CodeWellKnownRedirect    = "WELLKNOWN_REDIRECT"    // error/warning: too many redirects, or to plain HTTP
	CodeWellKnownInvalid     = "WELLKNOWN_INVALID"     // error/warning: invalid JSON, schema or version
	CodeWellKnownConflict    = "WELLKNOWN_CONFLICT"    // error: two namespaces of one prefix conflict
	CodeWellKnownNotChecked  = "WELLKNOWN_NOT_CHECKED" // info: --no-well-known

	// Delegation chains.
	CodeDelegationLoop    = "DELEGATION_LOOP"     // error: a (host, path) visited twice
	CodeDelegationTooDeep = "DELEGATION_TOO_DEEP" // error: more hops than clients follow
	CodeDelegateFailed    = "DELEGATE_FAILED"     // error: discovery fails at a delegate host
	CodeDelegation        = "DELEGATION"          // info: where a delegated prefix ends up

	// Registries.
	CodeRegistryOK          = "REGISTRY_OK"          // info: /v2/ answers as an OCI registry
	CodeRegistryUnreachable = "REGISTRY_UNREACHABLE" // error: no connection, DNS failure, timeout
	CodeRegistryTLS         = "REGISTRY_TLS"         // error: certificate not valid
	CodeRegistryNotOCI      = "REGISTRY_NOT_OCI"     // error: /v2/ does not answer as a registry
	CodeSRVTLSName          = "SRV_TLS_NAME"         // error: unauthenticated SRV target's certificate not valid for the host
	CodeDirectNotRegistry   = "DIRECT_NOT_REGISTRY"  // warning: names falling through to https://<host> find no registry
	CodeRegistryNotChecked  = "REGISTRY_NOT_CHECKED" // info: probes turned off

	// Signing keys (v=ocisig1 records, the well-known document's signers)
	// and the names checked against them.
	CodeSignerKey             = "SIGNER_KEY"             // info: a usable signing key
	CodeSignerMalformed       = "SIGNER_MALFORMED"       // error: a v=ocisig1 record breaks the grammar; clients skip it
	CodeSignerKeyUnusable     = "SIGNER_KEY_UNUSABLE"    // error: the key does not parse as a key of its algorithm
	CodeSignerAlgUnknown      = "SIGNER_ALG_UNKNOWN"     // warning: an algorithm clients do not verify with
	CodeSignerRevoked         = "SIGNER_REVOKED"         // info: a prefix's keys are revoked
	CodeSignerUnauthenticated = "SIGNER_UNAUTHENTICATED" // error/warning: keys from a source clients do not trust for keys
	CodeTXTLarge              = "TXT_LARGE"              // warning: the TXT answer is over 1232 bytes: TCP
	CodeImageSigned           = "IMAGE_SIGNED"           // info: a name's digest verified
	CodeImageUnsigned         = "IMAGE_UNSIGNED"         // error/warning: no valid signature, under required/optional
	CodeImageUnresolved       = "IMAGE_UNRESOLVED"       // error: a name given to check does not resolve
	CodeImageNotChecked       = "IMAGE_NOT_CHECKED"      // info: no key applies and none is required
)
