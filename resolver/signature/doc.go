// Package signature verifies cosign signatures of an image digest with
// public keys the name's owner published (or the user configured).
//
// It reads cosign's two storage formats, observed from cosign v2.6.5:
//
//   - the tag format (cosign's default before v3): the manifest at tag
//     sha256-<hex>.sig of the image's repository; each layer of media type
//     SimpleSigningMediaType is a simple-signing payload, and its
//     SignatureAnnotation holds the signature over the exact payload bytes;
//   - the bundle format (--new-bundle-format; v3's default): a referrer
//     manifest of the image holding a sigstore bundle v0.3, whose DSSE
//     envelope carries an in-toto statement about the digest, signed over
//     DSSE's pre-authentication encoding.
//
// Keys are ECDSA P-256 (signatures over SHA-256, ASN.1 DER) and Ed25519
// (Ed25519ph, SHA-512 pre-hash, as cosign signs with Ed25519 keys), parsed
// from DER SubjectPublicKeyInfo (ParseKey, ParseKeyBase64) or a PEM file
// such as cosign.pub (ParsePEM). A key's ID is the hex SHA-256 of its DER
// encoding; cosign's bundle hint is the same digest in base64.
//
// Verify does no HTTP: it reads through a Fetcher that the resolver
// implements with its authenticated registry client, and bounds what it
// reads (see MaxSignatureManifestBytes and the constants beside it). It
// returns a Result: verified (key ID, format, key source) or a failure
// Code — SIGNATURE_MISSING, SIGNATURE_INVALID, NO_USABLE_KEY or
// SIGNATURE_UNFETCHABLE — with every attempt and why it failed, for the
// trace. Policy.Check applies required/optional and never fails open.
//
// Out of scope: keyless signing (Fulcio certificates), transparency logs
// (Rekor) and timestamps, notation signatures, attestations other than
// cosign's signature statement, and signatures stored in another
// repository (COSIGN_REPOSITORY).
package signature
