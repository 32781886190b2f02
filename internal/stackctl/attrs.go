package stackctl

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// repairAttrs removes the unreadable metadata files a killed `pulumi` can
// leave beside a stack's state in a file backend at dir. The storage layer
// (gocloud's fileblob) rewrites <file>.attrs in place, not atomically, so a
// kill at that moment leaves it empty or cut short, and from then on every
// command on the stack fails with "failed to load checkpoint: EOF". A
// missing .attrs reads as no metadata, which is what the file had that
// matters: the state itself is beside it, whole. Only call it when no live
// process holds the stack's lock.
func repairAttrs(dir, project, stack string, out io.Writer) error {
	var files []string
	for _, d := range []string{filepath.Join(dir, ".pulumi", "stacks", project), filepath.Join(dir, ".pulumi", "stacks")} {
		found, err := filepath.Glob(filepath.Join(d, stack+".*.attrs"))
		if err != nil {
			return err
		}
		files = append(files, found...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || json.Valid(b) {
			continue
		}
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("remove the unreadable %s: %w", f, err)
		}
		fmt.Fprintf(out, "recover: stack %s: removed %s, cut short by the interrupted run (the state beside it is whole)\n", stack, f)
	}
	return nil
}
