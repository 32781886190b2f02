package fly

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// dropNulls removes object members whose value is null, at any depth. The
// generated types omit unset pointers, but a pointer to a nil map or slice
// (Env: &env with env nil) still marshals as null, which the spec never
// allows. Numbers pass through as written.
func dropNulls(raw []byte) ([]byte, error) {
	if !bytes.Contains(raw, []byte("null")) {
		return raw, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(pruneNulls(v)); err != nil {
		return nil, fmt.Errorf("re-encoding: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func pruneNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = pruneNulls(e)
		}
	case []any:
		for i, e := range v {
			v[i] = pruneNulls(e)
		}
	}
	return v
}
