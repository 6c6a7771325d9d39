package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rampart-edge/rampart/internal/country"
	"github.com/rampart-edge/rampart/internal/entity"
	"github.com/rampart-edge/rampart/internal/screening"
)

// Screening request limits.
const (
	// MaxLimit is the largest "limit" a screening request may ask for.
	MaxLimit = 100
	// maxNameBytes bounds the name to screen (names on the lists are far
	// shorter).
	maxNameBytes = 1024
)

// screenRequest is the body of POST /v1/screen.
type screenRequest struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Country string `json:"country"`
	Limit   *int   `json:"limit"`
}

// screenResponse is the answer of POST /v1/screen, as PRODUCT.md fixes it.
type screenResponse struct {
	Matches []screening.Match `json:"matches"`
	Lists   map[string]string `json:"lists"`
}

// requestError is a client error with its HTTP status.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// bufPool recycles request body buffers.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readJSONBody checks the content type and reads at most maxJSONBody bytes
// of the body into buf. A missing Content-Type is taken as JSON; any other
// than application/json (parameters allowed) is 415.
func readJSONBody(r *http.Request, buf *bytes.Buffer) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &requestError{code: http.StatusUnsupportedMediaType,
				msg: fmt.Sprintf("Content-Type %q is not supported; send application/json", ct)}
		}
	}
	if r.ContentLength > maxJSONBody {
		return &requestError{code: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("request body of %d bytes is over the %d allowed", r.ContentLength, maxJSONBody)}
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return badRequest("reading request body: %v", err)
	}
	if n > maxJSONBody {
		return &requestError{code: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("request body is over the %d bytes allowed", maxJSONBody)}
	}
	return nil
}

// parseScreenRequest decodes and validates a screening request body into
// a query. Unknown fields, trailing data and values of the wrong type are
// errors that name the field.
func parseScreenRequest(body []byte) (screening.Query, error) {
	var req screenRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return screening.Query{}, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return screening.Query{}, badRequest("invalid JSON: unexpected data after the object")
	}
	q := screening.Query{Name: strings.TrimSpace(req.Name), Limit: screening.DefaultLimit}
	switch {
	case q.Name == "":
		return q, badRequest(`"name" is required`)
	case len(q.Name) > maxNameBytes:
		return q, badRequest(`"name" is %d bytes long; at most %d are allowed`, len(q.Name), maxNameBytes)
	case !utf8.ValidString(q.Name):
		return q, badRequest(`"name" is not valid UTF-8`)
	}
	switch k := entity.Kind(req.Kind); k {
	case "", entity.Person, entity.Organization, entity.Vessel, entity.Aircraft:
		q.Kind = k
	default:
		return q, badRequest(`"kind" must be person, organization, vessel, aircraft or empty, not %q`, req.Kind)
	}
	if req.Country != "" {
		cc := strings.ToUpper(req.Country)
		if !country.Valid(cc) {
			return q, badRequest(`"country" must be an ISO 3166-1 alpha-2 code such as "IR", not %q`, req.Country)
		}
		q.Country = cc
	}
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > MaxLimit {
			return q, badRequest(`"limit" must be between 1 and %d, not %d`, MaxLimit, *req.Limit)
		}
		q.Limit = *req.Limit
	}
	return q, nil
}

// jsonError turns a decoding error into a client error naming the field.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return badRequest("the body must be a JSON object, not %s", typeErr.Value)
	case errors.As(err, &typeErr):
		return badRequest("field %q must be a JSON %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return badRequest("invalid JSON at byte %d: %v", syntaxErr.Offset, err)
	case errors.Is(err, io.EOF):
		return badRequest("empty request body; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("invalid JSON: the body ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("invalid JSON: %v", err)
}

// jsonKind names Go kinds the way a JSON user would.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "int", "int64", "int32", "float64":
		return "number"
	case "struct", "map":
		return "object"
	}
	return k
}

// handleScreen answers POST /v1/screen: {"name", "kind", "country",
// "limit"} → {"matches": [...], "lists": {...}}, matches sorted by score
// and at or above the screening threshold.
func (s *Server) handleScreen(w http.ResponseWriter, r *http.Request) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 2*maxJSONBody {
			bufPool.Put(buf)
		}
	}()
	if err := readJSONBody(r, buf); err != nil {
		writeRequestError(w, err)
		return
	}
	q, err := parseScreenRequest(buf.Bytes())
	if err != nil {
		writeRequestError(w, err)
		return
	}
	if s.opts.Screening == nil {
		writeError(w, http.StatusServiceUnavailable, "screening is not available on this server")
		return
	}
	res := s.opts.Screening.Screen(q)
	out := screenResponse{Matches: res.Matches, Lists: res.Lists}
	if out.Matches == nil {
		out.Matches = []screening.Match{}
	}
	if out.Lists == nil {
		out.Lists = map[string]string{}
	}
	writeJSON(w, http.StatusOK, out)
}

// writeRequestError answers a *requestError with its status, anything
// else with 400.
func writeRequestError(w http.ResponseWriter, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeError(w, re.code, re.msg)
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}
