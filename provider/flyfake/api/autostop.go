package api

import (
	"encoding/json"
	"fmt"
)

// MarshalJSON answers a service's autostop as Fly does: false for "off" and
// true for "stop", the booleans older clients (fly-go among them) decode;
// "suspend" stays a string. The spec's description says so, though its
// schema has only strings.
func (a FlyMachineServiceAutostop) MarshalJSON() ([]byte, error) {
	switch a {
	case Off:
		return []byte("false"), nil
	case Stop:
		return []byte("true"), nil
	}
	return json.Marshal(string(a))
}

// UnmarshalJSON reads both forms back, so a config survives a round trip.
func (a *FlyMachineServiceAutostop) UnmarshalJSON(data []byte) error {
	var b bool
	if err := json.Unmarshal(data, &b); err == nil {
		*a = map[bool]FlyMachineServiceAutostop{false: Off, true: Stop}[b]
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("autostop: want a string or a boolean, got %s", data)
	}
	*a = FlyMachineServiceAutostop(s)
	return nil
}
