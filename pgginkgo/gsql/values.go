package gsql

import (
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// normalise maps what pgx decodes to the small set of Go types that Rows
// promises, so that user expectations need not know pgx's types: integers are
// int64, floats float64, numeric a string (its exact decimal text, because a
// float would round it), uuid a string, json a decoded value, arrays []any.
func normalise(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int64, float64, time.Time:
		return x
	case int, int8, int16, int32:
		return reflect.ValueOf(x).Int()
	case uint8, uint16, uint32:
		return int64(reflect.ValueOf(x).Uint())
	case float32:
		return float64(x)
	case []byte:
		return append([]byte(nil), x...)
	case [16]byte:
		return uuidString(x)
	case pgtype.Numeric:
		if s, err := x.Value(); err == nil {
			return normalise(s)
		}
		return fmt.Sprint(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalise(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalise(e)
		}
		return out
	case driver.Valuer:
		// pgtype's interval, time, range and similar types know their
		// PostgreSQL text form.
		if s, err := x.Value(); err == nil {
			return normalise(s)
		}
		return fmt.Sprint(x)
	case fmt.Stringer:
		// inet, cidr, macaddr and infinite timestamps.
		return x.String()
	default:
		return x
	}
}

// normaliseSQL does for drivers other than pgx what normalise does for pgx.
// Those drivers return text as []byte and know nothing of json or uuid, so
// the column's type name decides.
func normaliseSQL(v any, typeName string) any {
	typeName = strings.ToUpper(typeName)
	var text []byte
	switch x := v.(type) {
	case []byte:
		if typeName == "BYTEA" {
			return append([]byte(nil), x...)
		}
		text = x
	case string:
		text = []byte(x)
	default:
		return normalise(v)
	}
	if typeName == "JSON" || typeName == "JSONB" {
		var decoded any
		if err := json.Unmarshal(text, &decoded); err == nil {
			return normalise(decoded)
		}
	}
	return string(text)
}

// uuidString writes a uuid in PostgreSQL's own text form.
func uuidString(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
