package main

import (
	"errors"
	"fmt"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/resolver/signature"
)

// This file turns `ocidns records --signing-key FILE` into published keys
// (docs/protocol.md §15.1): the public key of a cosign key pair, under a
// prefix, with a signing policy, checked by the parsers clients use.

// sourcedKey is a key to publish and the flag it came from, for messages.
type sourcedKey struct {
	k    discovery.PublishedKey
	from string // "key 1 (--signing-key cosign.pub)"
}

// isMappingFlag reports whether a flag belongs to the mappings only (not
// to the keys, which take --prefix and --sign).
func isMappingFlag(flag string) bool {
	switch flag {
	case "registry", "delegate", "priority", "weight", "caps":
		return true
	}
	return false
}

func checkSignPolicy(v string) error {
	if v != "required" && v != "optional" {
		return errors.New("want required or optional")
	}
	return nil
}

// keysFromFlags reads each --signing-key with the --prefix and --sign in
// effect where it appears; without mappings on the command line (keys
// only, or mappings from --file), one --prefix and one --sign apply to
// every key wherever they appear.
func keysFromFlags(events []flagEvent, positional bool, stdio IO) ([]sourcedKey, int) {
	var prefix, sign string
	if !positional {
		seen := map[string]string{}
		for _, ev := range events {
			if ev.flag != "prefix" && ev.flag != "sign" {
				continue
			}
			if prev, dup := seen[ev.flag]; dup && prev != ev.value {
				return nil, usageError(stdio, "records", "--%s given twice (%q and %q): without mappings on the command line, one --prefix and one --sign apply to every --signing-key", ev.flag, prev, ev.value)
			}
			seen[ev.flag] = ev.value
		}
		prefix, sign = seen["prefix"], seen["sign"]
	}
	var keys []sourcedKey
	for _, ev := range events {
		switch {
		case positional && ev.flag == "prefix":
			prefix = ev.value
		case positional && ev.flag == "sign":
			sign = ev.value
		case ev.flag == "signing-key":
			from := fmt.Sprintf("key %d (--signing-key %s", len(keys)+1, ev.value)
			if prefix != "" {
				from += " --prefix " + prefix
			}
			if sign != "" {
				from += " --sign " + sign
			}
			from += ")"
			k, err := publishedKey(ev.value, prefix, sign)
			if err != nil {
				fmt.Fprintf(stdio.Err, "ocidns records: %s: %v\n", from, err)
				return nil, exitFailed
			}
			keys = append(keys, sourcedKey{k: k, from: from})
		}
	}
	return keys, exitOK
}

// publishedKey reads a PEM public key file and makes the key to publish,
// checked to read back, through the clients' record parser, as itself.
func publishedKey(path, prefix, sign string) (discovery.PublishedKey, error) {
	key, err := signature.ReadPEMFile(path, signature.SourceConfig)
	if err != nil {
		return discovery.PublishedKey{}, err
	}
	k := discovery.PublishedKey{Prefix: prefix, Alg: string(key.Algorithm()), DER: key.DER()}
	if sign == "required" {
		k.Sign = discovery.SignRequired
	}
	text := discovery.FormatSignerTXT(k)
	back, err := discovery.ParseSignerTXT(text)
	if err != nil {
		return discovery.PublishedKey{}, fmt.Errorf("the record %q does not parse back: %w", text, err)
	}
	if discovery.FormatSignerTXT(back) != text || back.Prefix != prefix {
		return discovery.PublishedKey{}, fmt.Errorf("the record %q reads back as %+v", text, back)
	}
	return k, nil
}
