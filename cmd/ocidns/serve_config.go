package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"
)

// This file reads `ocidns serve --config FILE`: a TOML file whose keys are
// serve's long flag names and whose values are what the flags take —
//
//	listen = "127.0.0.1:5080"
//	dns = ["192.0.2.53:53"]          # repeatable flags take arrays
//	trust-ad = true
//	timeout = "30s"                  # durations are strings
//	max-in-flight = 256
//
// A flag given on the command line overrides the file. A key that names
// no flag, or a value of the wrong type, is an error naming its line.

// maxConfigSize bounds the config file read into memory.
const maxConfigSize = 1 << 20

// notInConfig are the flags a config file cannot set.
var notInConfig = map[string]bool{"config": true, "help": true}

// configField is the config key of one flag.
type configField struct {
	flag string
	want string // what the key takes, for messages
}

// configType builds the struct the file decodes into: one pointer field
// per flag of fs, tagged with the flag's name, so that an absent key stays
// nil and a key naming no flag is unknown to the decoder.
func configType(fs *pflag.FlagSet) (reflect.Type, []configField, error) {
	var fields []reflect.StructField
	var keys []configField
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if notInConfig[f.Name] || err != nil {
			return
		}
		var t reflect.Type
		var want string
		switch f.Value.Type() {
		case "string":
			t, want = reflect.TypeFor[string](), "a string"
		case "duration":
			t, want = reflect.TypeFor[string](), `a duration string such as "30s", "5m" or "1h"`
		case "bool":
			t, want = reflect.TypeFor[bool](), "true or false"
		case "int":
			t, want = reflect.TypeFor[int64](), "an integer"
		case "stringArray", "stringSlice":
			t, want = reflect.TypeFor[[]string](), `an array of strings, such as ["a", "b"]`
		default:
			err = fmt.Errorf("flag --%s of type %s has no config file form", f.Name, f.Value.Type())
			return
		}
		fields = append(fields, reflect.StructField{
			Name: "F" + strconv.Itoa(len(fields)),
			Type: reflect.PointerTo(t),
			Tag:  reflect.StructTag(`toml:"` + f.Name + `"`),
		})
		keys = append(keys, configField{flag: f.Name, want: want})
	})
	if err != nil {
		return nil, nil, err
	}
	return reflect.StructOf(fields), keys, nil
}

// applyConfigFile sets the flags of fs that the command line left unset
// from the TOML file at path. Errors name the file and, where the decoder
// or the key's line says, the line.
func applyConfigFile(fs *pflag.FlagSet, path string) error {
	data, err := readConfigFile(path)
	if err != nil {
		return err
	}
	typ, keys, err := configType(fs)
	if err != nil {
		return err
	}
	v := reflect.New(typ)
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return configDecodeError(path, keys, err)
	}
	for i, k := range keys {
		field := v.Elem().Field(i)
		if field.IsNil() || fs.Changed(k.flag) {
			continue // absent, or the command line says otherwise
		}
		var values []string
		switch x := field.Elem().Interface().(type) {
		case string:
			values = []string{x}
		case bool:
			values = []string{strconv.FormatBool(x)}
		case int64:
			values = []string{strconv.FormatInt(x, 10)}
		case []string:
			values = x
		}
		for _, s := range values {
			if err := fs.Set(k.flag, s); err != nil {
				return fmt.Errorf("%s%s: %s = %q: %v", path, keyLine(data, k.flag), k.flag, s, err)
			}
		}
	}
	return nil
}

// readConfigFile reads path, bounded in size.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("--config %s: larger than %d bytes", path, maxConfigSize)
	}
	return data, nil
}

// configDecodeError turns the decoder's error into one line per problem,
// each naming the file and line (and what a key of the wrong type takes).
func configDecodeError(path string, keys []configField, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var msgs []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			msgs = append(msgs, fmt.Sprintf("%s:%d: unknown setting %q: not a flag of ocidns serve", path, row, strings.Join(e.Key(), ".")))
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		key := strings.Join(de.Key(), ".")
		for _, k := range keys {
			if k.flag == key {
				return fmt.Errorf("%s:%d:%d: %s takes %s", path, row, col, key, k.want)
			}
		}
		return fmt.Errorf("%s:%d:%d: %s", path, row, col, de.Error())
	}
	return fmt.Errorf("%s: %w", path, err)
}

// keyLine returns ":N" for the line that sets key at the top level of a
// TOML document, or "" when there is no such line (a quoted key, say).
func keyLine(data []byte, key string) string {
	re := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(key) + `\s*=`)
	for i, line := range strings.Split(string(data), "\n") {
		if re.MatchString(line) {
			return ":" + strconv.Itoa(i+1)
		}
	}
	return ""
}
