package bytesize

import "testing"

func TestLimitWordsWholeUnitsAndBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{4 << 20, "4 MiB"},
		{64 << 10, "64 KiB"},
		{1 << 20, "1 MiB"},
		{1536, "1536-byte"},
		{(1 << 20) + (1 << 10), "1025 KiB"},
		{10, "10-byte"},
		{0, "0-byte"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := Limit(tc.n); got != tc.want {
				t.Errorf("Limit(%d) = %q, want %q", tc.n, got, tc.want)
			}
		})
	}
}
