package stackctl

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockStaleness(t *testing.T) {
	dead := func(int) bool { return false }
	alive := func(int) bool { return true }
	l := lock{Pid: 13117, Username: "root", Hostname: "vm"}
	assert.True(t, l.stale("vm", dead), "this host's lock whose process is gone")
	assert.False(t, l.stale("vm", alive), "a live process's lock")
	assert.False(t, l.stale("laptop", dead), "another host's lock: its processes cannot be seen")
	assert.False(t, l.stale("laptop", alive))
}

// deadPid is the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// writeLock writes a lock where Pulumi's file backend at state keeps the
// dev stack's, in Pulumi's format.
func writeLock(t *testing.T, state string, pid int, host string) string {
	t.Helper()
	dir := lockDirs(state, "emothe", "dev")[0]
	require.NoError(t, os.MkdirAll(dir, 0o700))
	b, err := json.Marshal(lock{Pid: pid, Username: "someone", Hostname: host, Timestamp: time.Now()})
	require.NoError(t, err)
	path := filepath.Join(dir, "0123abcd.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	require.NoError(t, os.WriteFile(path+".attrs", []byte("{}"), 0o600))
	return path
}

// A stale lock is removed, said, and the next update runs; a live
// process's lock and another host's are kept, and the refusal names the
// holder and the command that clears it.
func TestRecoverClearsOnlyStaleLocks(t *testing.T) {
	root, state := project(t)
	ctx := context.Background()
	program := func(ctx *pulumi.Context) error {
		var r pulumi.ResourceState
		return ctx.RegisterComponentResource("emothe:test:Thing", "thing", &r)
	}
	st, err := Open(ctx, root, "dev", program)
	require.NoError(t, err)
	host, err := os.Hostname()
	require.NoError(t, err)

	path := writeLock(t, state, os.Getpid(), host)
	var out strings.Builder
	err = Recover(ctx, st, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "still runs on this host")
	assert.Contains(t, err.Error(), "pulumi cancel --stack dev --yes")
	assert.Contains(t, err.Error(), path)
	assert.FileExists(t, path, "a live process's lock is kept")

	writeLock(t, state, deadPid(t), "elsewhere")
	err = Recover(ctx, st, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "someone@elsewhere")
	assert.Contains(t, err.Error(), "taken on host elsewhere")
	assert.FileExists(t, path, "another host's lock is kept")

	pid := deadPid(t)
	writeLock(t, state, pid, host)
	require.NoError(t, Recover(ctx, st, &out))
	assert.Contains(t, out.String(), "removed the stale lock of someone@"+host)
	assert.NoFileExists(t, path)
	assert.NoFileExists(t, path+".attrs")
	_, err = Up(ctx, st)
	require.NoError(t, err, "the engine finds no lock")

	out.Reset()
	require.NoError(t, Recover(ctx, st, &out))
	assert.Empty(t, out.String(), "nothing to recover, nothing said")
}

func op(typ apitype.OperationType, urn, resType, name string) apitype.OperationV2 {
	op := apitype.OperationV2{Type: typ}
	op.Resource.URN, op.Resource.Type = resource.URN(urn), tokens.Type(resType)
	if name != "" {
		op.Resource.Inputs = map[string]any{"name": name}
	}
	return op
}

const (
	urnRoot    = "urn:pulumi:dev::emothe::pulumi:pulumi:Stack::emothe-dev"
	urnApp1    = "urn:pulumi:dev::emothe::emothe:index:Deployment$docker:index/container:Container::p-app-1"
	urnMigrate = "urn:pulumi:dev::emothe::emothe:index:Deployment$docker:index/container:Container::p-migrate"
	urnPgdata  = "urn:pulumi:dev::emothe::emothe:index:Deployment$docker:index/volume:Volume::p_pgdata"
)

func TestRefreshTargets(t *testing.T) {
	s := state{Resources: []apitype.ResourceV3{
		{URN: resource.URN(urnRoot), Type: rootType},
		{URN: resource.URN(urnApp1), Type: containerType, ID: "c1"},
		{URN: resource.URN(urnMigrate), Type: containerType, ID: "m1", Delete: true},
	}}
	assert.Nil(t, s.refreshTargets(), "nothing pending, no refresh")

	s.Pending = []apitype.OperationV2{op(apitype.OperationTypeCreating, urnApp1, containerType, "p-app-1-abc1234")}
	assert.Equal(t, []string{urnRoot}, s.refreshTargets(), "creates alone: the root, and the refresh clears them")

	s.Pending = append(s.Pending,
		op(apitype.OperationTypeDeleting, urnMigrate, containerType, ""),
		op(apitype.OperationTypeUpdating, urnApp1, containerType, ""),
		op(apitype.OperationTypeDeleting, urnPgdata, volumeType, ""), // no longer in the state
	)
	assert.Equal(t, []string{urnRoot, urnMigrate, urnApp1}, s.refreshTargets(),
		"pending deletes and updates of resources the state holds, once each")
	assert.Equal(t, "pending delete of docker:index/container:Container p-migrate", describe(s.Pending[1]))
}

func TestJudgeTouchesOnlyTheProjectsObjectsTheStateLacks(t *testing.T) {
	s := state{
		Resources: []apitype.ResourceV3{
			{URN: resource.URN(urnApp1), Type: containerType, ID: "c-held"},
			{URN: resource.URN(urnPgdata), Type: volumeType, ID: "p_pgdata"},
		},
		Pending: []apitype.OperationV2{op(apitype.OperationTypeCreating, urnApp1, containerType, "p-app-1-new")},
	}
	objects := []hostObject{
		{Kind: "container", ID: "c-held", Name: "p-app-1-old", Project: "p"},
		{Kind: "container", ID: "c-new", Name: "p-app-1-new", Project: "p"},
		{Kind: "container", ID: "c-orphan", Name: "p-migrate-123", Project: "p"},
		{Kind: "container", ID: "c-foreign", Name: "p-app-1-x", Project: "other"},
		{Kind: "container", ID: "c-bare", Name: "p-app-2-y"},
		{Kind: "network", ID: "n-orphan", Name: "p_private", Project: "p"},
		{Kind: "volume", ID: "p_pgdata", Name: "p_pgdata", Project: "p"},
		{Kind: "volume", ID: "p_backups", Name: "p_backups", Project: "p"},
	}
	var got []string
	for _, v := range judge("p", objects, s, s.pendingCreates()) {
		action := "keep"
		if v.Remove {
			action = "remove"
		}
		got = append(got, action+" "+v.Object.ID)
		if v.Object.ID == "c-new" {
			assert.Contains(t, v.Why, "interrupted create of p-app-1")
		}
	}
	assert.Equal(t, []string{"remove c-new", "remove c-orphan", "remove n-orphan", "keep p_backups"}, got,
		"held objects are left, foreign and label-less ones never touched, volumes never removed")
	assert.Empty(t, judge("", objects, s, nil), "a stack without a project touches nothing")
}

func TestOrphanedPlugin(t *testing.T) {
	p := plugin{Pid: 42, Name: "pulumi-resource-docker", Engine: "127.0.0.1:4000", Dir: "/repo", Project: "emothe"}
	closed := func(string) bool { return false }
	open := func(string) bool { return true }
	assert.True(t, p.orphaned("/repo", "emothe", closed), "its engine is gone")
	assert.False(t, p.orphaned("/repo", "emothe", open), "a live engine's plugin")
	assert.False(t, p.orphaned("/other", "emothe", closed), "another checkout's")
	assert.False(t, p.orphaned("/repo", "app", closed), "another project's")
}

func TestEngineLock(t *testing.T) {
	// As pkg/backend/diy/lock.go words it.
	err := errors.New("failed to run refresh: exit status 255\nstderr: error: the stack is currently locked by 1 lock(s). " +
		"Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
		"  s3://bucket/.pulumi/locks/organization/emothe/dev/abc.json: created by runner@ci-7 (pid 2211) at 2026-12-03T09:12:44Z\n")
	holder, ok := engineLock(err)
	assert.True(t, ok)
	assert.Equal(t, "s3://bucket/.pulumi/locks/organization/emothe/dev/abc.json: created by runner@ci-7 (pid 2211) at 2026-12-03T09:12:44Z", holder)
	_, ok = engineLock(errors.New("refresh failed: the provider is gone"))
	assert.False(t, ok)
}
