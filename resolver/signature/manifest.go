package signature

import (
	"fmt"
	"strconv"

	"github.com/opencontainers/go-digest"
)

// This file reads the OCI and Docker manifests and indexes signatures are
// found through. They are not signed: they only say where to look, and
// every object they point at is checked against its digest and then
// verified cryptographically. Unknown members are ignored (the image
// specification asks consumers to).

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType    string
	ArtifactType string
	Digest       digest.Digest
	Size         int64
	Annotations  map[string]string
}

// manifestDoc holds what this package reads of an image manifest or index.
type manifestDoc struct {
	MediaType    string
	ArtifactType string
	Config       *descriptor
	Layers       []descriptor
	Manifests    []descriptor
	Subject      *descriptor
}

// parseManifest parses an image manifest or index (schemaVersion 2).
func parseManifest(body []byte) (*manifestDoc, error) {
	v, err := parseJSON(body)
	if err != nil {
		return nil, err
	}
	if v.kind != jsonObject {
		return nil, jsonErrf("", v.off, "%s, want an object", v.kind)
	}
	sv := v.member("schemaVersion")
	if sv == nil || sv.kind != jsonNumber || sv.str != "2" {
		return nil, jsonErrf("schemaVersion", v.off, "want schemaVersion 2")
	}
	m := &manifestDoc{}
	if m.MediaType, err = optionalString(v, "", "mediaType"); err != nil {
		return nil, err
	}
	if m.ArtifactType, err = optionalString(v, "", "artifactType"); err != nil {
		return nil, err
	}
	if c := v.member("config"); c != nil {
		d, err := parseDescriptor(c, "config")
		if err != nil {
			return nil, err
		}
		m.Config = &d
	}
	if s := v.member("subject"); s != nil && s.kind != jsonNull {
		d, err := parseDescriptor(s, "subject")
		if err != nil {
			return nil, err
		}
		m.Subject = &d
	}
	if m.Layers, err = descriptorList(v, "layers"); err != nil {
		return nil, err
	}
	if m.Manifests, err = descriptorList(v, "manifests"); err != nil {
		return nil, err
	}
	return m, nil
}

func descriptorList(v *jsonValue, key string) ([]descriptor, error) {
	l := v.member(key)
	if l == nil || l.kind == jsonNull {
		return nil, nil
	}
	if l.kind != jsonArray {
		return nil, jsonErrf(key, l.off, "%s, want an array", l.kind)
	}
	out := make([]descriptor, 0, len(l.elems))
	for i, e := range l.elems {
		d, err := parseDescriptor(e, fmt.Sprintf("%s[%d]", key, i))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func parseDescriptor(v *jsonValue, path string) (descriptor, error) {
	var d descriptor
	if v.kind != jsonObject {
		return d, jsonErrf(path, v.off, "%s, want a descriptor object", v.kind)
	}
	var err error
	if d.MediaType, err = optionalString(v, path, "mediaType"); err != nil {
		return d, err
	}
	if d.ArtifactType, err = optionalString(v, path, "artifactType"); err != nil {
		return d, err
	}
	ds, err := stringMember(v, path, "digest")
	if err != nil {
		return d, err
	}
	d.Digest = digest.Digest(ds)
	sz := v.member("size")
	if sz == nil || sz.kind != jsonNumber {
		return d, jsonErrf(joinJSONPath(path, "size"), v.off, "want an integer size")
	}
	if d.Size, err = strconv.ParseInt(sz.str, 10, 64); err != nil {
		return d, jsonErrf(joinJSONPath(path, "size"), sz.off, "size %s is not an integer", sz.str)
	}
	if a := v.member("annotations"); a != nil && a.kind != jsonNull {
		if a.kind != jsonObject {
			return d, jsonErrf(joinJSONPath(path, "annotations"), a.off, "%s, want an object", a.kind)
		}
		d.Annotations = make(map[string]string, len(a.keys))
		for i, k := range a.keys {
			if a.elems[i].kind != jsonString {
				return d, jsonErrf(joinJSONPath(joinJSONPath(path, "annotations"), k), a.elems[i].off, "%s, want a string", a.elems[i].kind)
			}
			d.Annotations[k] = a.elems[i].str
		}
	}
	return d, nil
}

// optionalString returns v's member key when it is a string, "" when it is
// absent or null.
func optionalString(v *jsonValue, path, key string) (string, error) {
	m := v.member(key)
	if m == nil || m.kind == jsonNull {
		return "", nil
	}
	if m.kind != jsonString {
		return "", jsonErrf(joinJSONPath(path, key), m.off, "%s, want a string", m.kind)
	}
	return m.str, nil
}
