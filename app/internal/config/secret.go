package config

import "log/slog"

// Secret holds a sensitive setting. Printing or logging it shows "[redacted]",
// so a stray %v or slog attribute cannot leak it; Value is the one way out.
type Secret string

const redacted = "[redacted]"

// Value returns the secret itself, for the code that must use it.
func (s Secret) Value() string { return string(s) }

func (Secret) String() string { return redacted }

// GoString covers %#v, which bypasses String.
func (Secret) GoString() string { return redacted }

// LogValue covers slog handlers, which bypass String for string kinds.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
