package main

import "testing"

// The committed schema and SDK are what the provider generates: the test
// twin of `go run ./tools/gensdk -check`.
func TestCommittedSchemaAndSDKAreCurrent(t *testing.T) {
	t.Chdir("../..")
	if err := run(true); err != nil {
		t.Fatal(err)
	}
}
