package flyapi

import (
	"encoding/json"
	"fmt"
)

// UnmarshalJSON accepts both forms of a service's autostop. The spec describes
// a string ("off", "stop", "suspend"), but Fly answers booleans for "off" and
// "stop" for older clients' sake, and a plain string field would fail to decode
// every machine that has such a service.
func (a *FlyMachineServiceAutostop) UnmarshalJSON(data []byte) error {
	var b bool
	if err := json.Unmarshal(data, &b); err == nil {
		*a = Off
		if b {
			*a = Stop
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("autostop: want a string or a boolean, got %s", data)
	}
	*a = FlyMachineServiceAutostop(s)
	return nil
}
