package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

// sizeUnits maps a lower-case unit to its multiplier: K, M, G, T with or
// without "i" and "B" are powers of 1024 (as FormatBytes prints them, and
// as Docker reads 1G), KB, MB, GB, TB powers of 1000.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "ki": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mi": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gi": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "ti": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

const sizeHelp = "use a number of bytes (1073741824) or a number with a unit: 512MiB, 2GiB, 1G, 1.5GB"

// parseSize reads "1073741824", "512MiB", "2 GiB", "1G" or "1.5GB".
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("not a size; %s", sizeHelp)
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil {
		if n > 0 && float64(n) > math.MaxInt64/mult {
			return 0, errors.New("too large; the largest size is 8 EiB")
		}
		return n * int64(mult), nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size; %s", sizeHelp)
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, errors.New("too large; the largest size is 8 EiB")
	}
	return int64(math.Round(v)), nil
}

// sizeFlag is a flag holding a size in bytes, n until it is set; the
// usage shows it without a space (2GiB), as users type it.
func sizeFlag(n int64) *valueFlag[int64] {
	return &valueFlag[int64]{v: n, parse: parseSize, format: func(n int64) string {
		return strings.ReplaceAll(formatSize(n), " ", "")
	}}
}

// formatSize is FormatBytes, with whole numbers shown whole (2 GiB, not
// 2.0 GiB), for limits that users type.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return fmt.Sprintf("%d %s", n/u.mult, u.name)
		}
	}
	if n < 1<<10 {
		return fmt.Sprintf("%d B", n)
	}
	return pgginkgo.FormatBytes(n)
}
