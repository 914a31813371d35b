package reference

// The parts of a name on their own, for the code that builds names from
// pieces (a discovery mapping's prefix joined with the rest of a path, a
// registry URL's path, a tag given alone): one grammar, the package's,
// wherever a repository path or a tag is checked.

// ValidatePath checks a repository path on its own, without a domain:
// components of lowercase letters and digits joined by '.', '_', '__' or
// dashes, separated by single slashes, at most NameMaxLength bytes (path
// in the package grammar). It does not allocate for a valid path. An
// error is a *ParseError wrapping ErrNameEmpty, ErrNameTooLong,
// ErrNameContainsUppercase or ErrInvalidFormat, whose Offset and
// Component point at the fault and whose message says what is wrong
// with the path ("empty path component at byte 5").
func ValidatePath(p string) error {
	if p == "" {
		return partError(p, 0, "", ErrNameEmpty, "empty path")
	}
	if len(p) > NameMaxLength {
		return partError(p, 0, p, ErrNameTooLong, "path is "+itoa(len(p))+" bytes long, more than "+itoa(NameMaxLength))
	}
	var f failure
	end := scanPath(p, 0, &f)
	switch {
	case end == len(p):
		return nil
	case end >= 0: // stopped at ':' or '@', which only a whole reference may hold
		f.off = end
	}
	return pathError(p, f.off)
}

// pathError says what is wrong at byte off of the path p, in the words of
// a path on its own.
func pathError(p string, off int) *ParseError {
	start, end := off, off
	for start > 0 && p[start-1] != '/' {
		start--
	}
	for end < len(p) && p[end] != '/' {
		end++
	}
	comp := p[start:end]
	switch {
	case off == 0 && p[0] == '/':
		return partError(p, 0, "", ErrInvalidFormat, "a repository path must not start with '/'")
	case off == len(p) && p[off-1] == '/':
		return partError(p, off, "", ErrInvalidFormat, "a repository path must not end with '/'")
	case off < len(p) && p[off] == '/' && off == start:
		return partError(p, off, "", ErrInvalidFormat, "empty path component at byte "+itoa(off)+` ("//")`)
	case off < len(p) && isUpper(p[off]):
		return partError(p, off, comp, ErrNameContainsUppercase,
			"uppercase letter "+describe(p[off])+" in path component "+quote(comp)+": repository paths are lowercase")
	}
	// A separator run at off or just before it: at an end of the component,
	// or one that is not '.', '_', '__' or dashes.
	runStart, runEnd := off, off
	for runStart > start && isSeparator(p[runStart-1]) {
		runStart--
	}
	for runEnd < end && isSeparator(p[runEnd]) {
		runEnd++
	}
	switch sep := p[runStart:runEnd]; {
	case sep == "":
		return partError(p, off, comp, ErrInvalidFormat, "invalid character "+describe(p[off])+" in path component "+quote(comp))
	case runStart == start || runEnd == end:
		return partError(p, off, comp, ErrInvalidFormat, "path component "+quote(comp)+" must begin and end with a letter or digit")
	default:
		return partError(p, off, comp, ErrInvalidFormat, "separator "+quote(sep)+" in path component "+quote(comp)+
			": only '.', '_', '__' or dashes may join letters and digits")
	}
}

func isSeparator(c byte) bool { return c == '.' || c == '_' || c == '-' }

// ValidateTag checks a tag on its own: 1 to 128 letters, digits, '_', '.'
// and '-', not starting with '.' or '-' (tag in the package grammar). It
// does not allocate for a valid tag. An error is a *ParseError wrapping
// ErrTagInvalidFormat.
func ValidateTag(t string) error {
	if f := checkTag(t); f.off >= 0 {
		return partError(t, f.off, t, failureKinds[f.kind], f.render(t))
	}
	return nil
}

// partError is the error of a part of a name checked on its own.
func partError(input string, off int, component string, kind error, detail string) *ParseError {
	e := newError(input, off, component, kind, detail)
	e.part = true
	return e
}
