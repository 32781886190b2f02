package stackctl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/emothe/emothe/infra/stack"
)

// The release history is kept in stack tags, which live with the stack's
// state in every backend (Pulumi Cloud, and the file and S3 backends), where
// neither `pulumi stack history` shows images nor `stack export --version`
// works. Tag i (1 is the newest) holds one release as "<status> <time>
// <image>". Tag values are at most 256 characters and tag names at most 40.
const (
	releaseTag = "emothe:release:"
	keep       = 5 // releases kept; a rollback needs two
)

// Release is one `up` of the stack as Up recorded it.
type Release struct {
	OK    bool // the update succeeded
	Time  time.Time
	Image string // the image it rolled to; "" when a failed update's is unknown
}

func (r Release) String() string {
	status := "failed"
	if r.OK {
		status = "ok"
	}
	return fmt.Sprintf("%s %s %s", status, r.Time.UTC().Format(time.RFC3339), cmp.Or(r.Image, "-"))
}

func parseRelease(v string) (Release, error) {
	f := strings.Fields(v)
	if len(f) != 3 || f[0] != "ok" && f[0] != "failed" {
		return Release{}, fmt.Errorf("release %q is not \"ok|failed <time> <image>\"", v)
	}
	t, err := time.Parse(time.RFC3339, f[1])
	if err != nil {
		return Release{}, err
	}
	r := Release{OK: f[0] == "ok", Time: t, Image: f[2]}
	if r.Image == "-" {
		r.Image = ""
	}
	return r, nil
}

// Releases are the stack's recorded releases, newest first.
func Releases(ctx context.Context, st auto.Stack) ([]Release, error) {
	tags, err := st.ListTags(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the release history of stack %s: %w", st.Name(), err)
	}
	var out []Release
	for i := 1; i <= keep; i++ {
		v, ok := tags[fmt.Sprint(releaseTag, i)]
		if !ok {
			break
		}
		r, err := parseRelease(v)
		if err != nil {
			return nil, fmt.Errorf("stack %s, tag %s%d: %w", st.Name(), releaseTag, i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// record puts r first in the history, unless the newest release is the same.
func record(ctx context.Context, st auto.Stack, r Release) error {
	history, err := Releases(ctx, st)
	if err != nil {
		return err
	}
	if len(history) > 0 && history[0].OK == r.OK && history[0].Image == r.Image {
		return nil
	}
	history = append([]Release{r}, history...)
	for i, h := range history[:min(len(history), keep)] {
		if err := st.SetTag(ctx, fmt.Sprint(releaseTag, i+1), h.String()); err != nil {
			return fmt.Errorf("record release %s of stack %s: %w", r, st.Name(), err)
		}
	}
	return nil
}

// Up runs `pulumi up` and records the release the stack is left on: the
// image output of a successful update; for a failed update that changed
// resources, the configured emothe:image (else unknown). A failure that
// changed nothing (a configuration error, say) records nothing.
func Up(ctx context.Context, st auto.Stack, opts ...optup.Option) (auto.UpResult, error) {
	stream := make(chan events.EngineEvent)
	changed := make(chan bool, 1)
	go func() {
		seen := false
		for e := range stream {
			if p := e.ResourcePreEvent; p != nil && !strings.HasPrefix(p.Metadata.Type, "pulumi:") && p.Metadata.Op != apitype.OpSame {
				seen = true
			}
		}
		changed <- seen
	}()
	var given optup.Options // EventStreams replaces the caller's streams: keep them
	for _, o := range opts {
		o.ApplyOption(&given)
	}
	res, err := st.Up(ctx, append(opts, optup.EventStreams(append(given.EventStreams, stream)...))...)
	touched := await(changed)
	r := Release{OK: err == nil, Time: time.Now()}
	switch {
	case err == nil:
		image, _ := res.Outputs["image"].Value.(string)
		if image == "" {
			return res, nil // nothing to roll back to
		}
		r.Image = image
	case !touched:
		return res, err
	default:
		if v, cerr := st.GetConfig(ctx, stack.Namespace+":image"); cerr == nil {
			r.Image = v.Value
		}
	}
	if rerr := record(context.WithoutCancel(ctx), st, r); rerr != nil {
		return res, errors.Join(err, rerr)
	}
	return res, err
}

// RollbackTarget picks the image a rollback puts back from the history: the
// newest successful release whose image is not the one the stack was last
// rolled to (successfully or not).
func RollbackTarget(history []Release) (Release, error) {
	if len(history) == 0 {
		return Release{}, errors.New("no release is recorded for this stack (releases are recorded by `make up` and the deploy workflow)")
	}
	current := history[0]
	for _, r := range history {
		if r.OK && r.Image != current.Image {
			return r, nil
		}
	}
	return Release{}, fmt.Errorf("no earlier successful release than %s is recorded", cmp.Or(current.Image, "the last update"))
}

// Rollback puts back the image of the stack's previous successful release,
// or image when it is not empty, through the normal rollout: it sets
// emothe:image in the stack's config and runs Up, release command included.
// It says what it does on out, and refuses when it cannot know the image.
func Rollback(ctx context.Context, st auto.Stack, image string, out io.Writer, opts ...optup.Option) (auto.UpResult, error) {
	history, err := Releases(ctx, st)
	if err != nil {
		return auto.UpResult{}, err
	}
	from := "an unrecorded release"
	if len(history) > 0 {
		from = cmp.Or(history[0].Image, "an unknown image")
		if !history[0].OK {
			from += " (failed)"
		}
	}
	if image == "" {
		target, err := RollbackTarget(history)
		if err != nil {
			return auto.UpResult{}, fmt.Errorf("rollback of stack %s: %w; nothing was changed; fix: give the image, pinned by digest: make rollback STACK=%s TO=<name@sha256:…>", st.Name(), err, st.Name())
		}
		image = target.Image
		fmt.Fprintf(out, "stack %s: rolling back from %s to %s, released %s\n", st.Name(), from, image, target.Time.UTC().Format(time.RFC3339))
	} else {
		if !strings.Contains(image, "@sha256:") {
			return auto.UpResult{}, fmt.Errorf("rollback of stack %s: TO=%q is not pinned by digest; nothing was changed; fix: give name@sha256:<digest> (see docs/rollback.md)", st.Name(), image)
		}
		fmt.Fprintf(out, "stack %s: rolling back from %s to %s, as asked\n", st.Name(), from, image)
	}
	key := stack.Namespace + ":image"
	if err := st.SetConfig(ctx, key, auto.ConfigValue{Value: image}); err != nil {
		return auto.UpResult{}, fmt.Errorf("set %s: %w", key, err)
	}
	fmt.Fprintf(out, "stack %s: set %s = %s in Pulumi.%s.yaml; running up\n", st.Name(), key, image, st.Name())
	res, err := Up(ctx, st, opts...)
	if err != nil {
		return res, fmt.Errorf("rollback of stack %s to %s: %w", st.Name(), image, err)
	}
	fmt.Fprintf(out, "stack %s: rolled back; it runs %s\n", st.Name(), image)
	return res, nil
}
