package flyapi

import (
	"encoding/json"
	"testing"
)

func TestAutostopDecodesBooleansAndStrings(t *testing.T) {
	for in, want := range map[string]FlyMachineServiceAutostop{
		`true`: Stop, `false`: Off, `"suspend"`: Suspend, `"stop"`: Stop,
	} {
		var svc FlyMachineService
		if err := json.Unmarshal([]byte(`{"autostop":`+in+`}`), &svc); err != nil {
			t.Fatalf("autostop %s: %v", in, err)
		}
		if svc.Autostop == nil || *svc.Autostop != want {
			t.Errorf("autostop %s decoded to %v, want %q", in, svc.Autostop, want)
		}
	}
	var svc FlyMachineService
	if err := json.Unmarshal([]byte(`{"autostop":3}`), &svc); err == nil {
		t.Error("autostop 3 decoded without error")
	}
}
