package flyfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// checkResponse validates the fake's own answer to a spec operation against
// the spec, and records a response violation when it breaks it. Answers Fly
// gives in a shape of its own (docs/fly-api.md#what-fly-accepts-beyond-the-spec)
// are read as Fly's clients read them first: a lease inside {"status",
// "data"}, a service's autostop as a boolean.
func (f *Fake) checkResponse(r *http.Request, rt *route, sw *statusWriter) {
	if sw.body == nil || sw.code == 0 {
		return
	}
	body := sw.body.Bytes()
	if rt.operation == "Machines_create_lease" || rt.operation == "Machines_show_lease" {
		var wrapped struct {
			Data json.RawMessage `json:"data"`
		}
		if sw.code < 300 && json.Unmarshal(body, &wrapped) == nil && wrapped.Data != nil {
			body = wrapped.Data
		}
	}
	if bytes.Contains(body, []byte(`"autostop"`)) {
		body = stringAutostop(body)
	}
	err := openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: rt.params, Route: rt.spec},
		Status:                 sw.code,
		Header:                 sw.Header(),
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{MultiError: false},
	})
	if err == nil {
		return
	}
	v := Violation{Method: r.Method, Path: r.URL.RequestURI(), Operation: rt.operation,
		Error: fmt.Sprintf("%d answer: %s", sw.code, describeResponse(err))}
	f.mu.Lock()
	f.responseViolations = append(f.responseViolations, v)
	f.mu.Unlock()
}

// stringAutostop reads boolean autostops in a JSON body as their strings.
func stringAutostop(body []byte) []byte {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return body
	}
	out, err := json.Marshal((&tolerated{}).fix(v, ""))
	if err != nil {
		return body
	}
	return out
}

// describeResponse names where an answer breaks its schema, without
// kin-openapi's schema dump.
func describeResponse(err error) string {
	var schemaErr *openapi3.SchemaError
	if !errors.As(err, &schemaErr) {
		return err.Error()
	}
	return "body " + describeSchemaError(schemaErr)
}

// ResponseViolations returns every answer of the fake so far that broke the
// spec. The fake's own tests hold it to none.
func (f *Fake) ResponseViolations() []Violation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Violation(nil), f.responseViolations...)
}
