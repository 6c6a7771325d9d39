// Package crs runs the OWASP Core Rule Set's own regression tests (the
// YAML files shipped in coraza-coreruleset's tests/ folder, in go-ftw's
// format) against rampart's WAF phase behind the real edge on a loopback
// listener. It is the equivalent of go-ftw for rampart: go-ftw itself is
// not available from the Go module proxy here.
//
// The runner reproduces go-ftw's behaviour that the tests rely on: raw
// requests written to a TCP connection as the YAML gives them (malformed
// ones included), Content-Length and Connection: close added unless
// autocomplete_headers is false, encoded_request sent verbatim, and the
// checks status, expect_error, log.expect_ids, log.no_expect_ids,
// log.match_regex and log.no_match_regex. Log checks read the rule
// matches Coraza reported for the request (by rampart's request id), the
// lines go-ftw would find in the error log.
package crs

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// File is one YAML test file.
type File struct {
	Path   string `yaml:"-"`
	RuleID int    `yaml:"rule_id"`
	Tests  []Test `yaml:"tests"`
}

// Test is one test of a file, with its stages.
type Test struct {
	TestID int     `yaml:"test_id"`
	Desc   string  `yaml:"desc"`
	Stages []Stage `yaml:"stages"`
}

// Stage is one request and its expected outcome.
type Stage struct {
	Input  Input  `yaml:"input"`
	Output Output `yaml:"output"`
}

// Input describes the request to send.
type Input struct {
	Method              *string       `yaml:"method"`
	URI                 *string       `yaml:"uri"`
	Version             *string       `yaml:"version"`
	Headers             yaml.MapSlice `yaml:"headers"`
	Data                string        `yaml:"data"`
	EncodedRequest      string        `yaml:"encoded_request"`
	AutocompleteHeaders *bool         `yaml:"autocomplete_headers"`
}

// Output is what a stage expects.
type Output struct {
	Status      int  `yaml:"status"`
	ExpectError bool `yaml:"expect_error"`
	Log         struct {
		ExpectIDs    []int  `yaml:"expect_ids"`
		NoExpectIDs  []int  `yaml:"no_expect_ids"`
		MatchRegex   string `yaml:"match_regex"`
		NoMatchRegex string `yaml:"no_match_regex"`
	} `yaml:"log"`
}

// Load reads every *.yaml under dir, sorted by path.
func Load(dir string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		var f File
		if err := yaml.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("parsing %s: %w", path, err)
		}
		f.Path = path
		files = append(files, f)
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, err
}

// Raw returns the bytes of the request in, as go-ftw would send them to
// host:port.
func (in Input) Raw() ([]byte, error) {
	if in.EncodedRequest != "" {
		b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(in.EncodedRequest, "\n", ""))
		if err != nil {
			return nil, fmt.Errorf("decoding encoded_request: %w", err)
		}
		return b, nil
	}
	data := expandData(in.Data)
	method, uri, version := "GET", "/", "HTTP/1.1"
	if in.Method != nil {
		method = *in.Method
	}
	if in.URI != nil {
		uri = *in.URI
	}
	if in.Version != nil {
		version = *in.Version
	}
	var b bytes.Buffer
	b.WriteString(method)
	b.WriteByte(' ')
	b.WriteString(uri)
	if version != "" {
		b.WriteByte(' ')
		b.WriteString(version)
	}
	b.WriteString("\r\n")
	has := map[string]bool{}
	for _, kv := range in.Headers {
		k := fmt.Sprint(kv.Key)
		has[strings.ToLower(k)] = true
		fmt.Fprintf(&b, "%s: %v\r\n", k, kv.Value)
	}
	if in.AutocompleteHeaders == nil || *in.AutocompleteHeaders {
		if data != "" && !has["content-length"] {
			fmt.Fprintf(&b, "Content-Length: %d\r\n", len(data))
		}
		if !has["connection"] {
			b.WriteString("Connection: close\r\n")
		}
	}
	b.WriteString("\r\n")
	b.WriteString(data)
	return b.Bytes(), nil
}

// repeatTemplate matches go-ftw's data template {{ "s" | repeat N }} (sprig's
// repeat), the only template the CRS tests use.
var repeatTemplate = regexp.MustCompile(`\{\{\s*"([^"]*)"\s*\|\s*repeat\s+([0-9]+)\s*\}\}`)

// expandData renders the templates in data as go-ftw does.
func expandData(data string) string {
	return repeatTemplate.ReplaceAllStringFunc(data, func(m string) string {
		sub := repeatTemplate.FindStringSubmatch(m)
		n, err := strconv.Atoi(sub[2])
		if err != nil || n > 16<<20 || n*len(sub[1]) > 16<<20 {
			return m // the CRS tests repeat at most 64 KiB; refuse to build more
		}
		return strings.Repeat(sub[1], n)
	})
}

// Logs returns the rule ids and error log lines Coraza reported for the
// request with rampart request id id.
type Logs func(id string) (ids []int, lines []string)

// Result is the outcome of one test.
type Result struct {
	Name   string // "942100-1"
	Passed bool
	Reason string // why it failed
}

// Run runs every test of files against the edge at addr and returns the
// results in order. A test named in overrides passes when it passes with
// either its own expected output or the override's (an engine's
// documented deviation, as go-ftw's overrides file gives them).
func Run(addr string, files []File, logs Logs, overrides map[string]Output) []Result {
	var out []Result
	for _, f := range files {
		for _, t := range f.Tests {
			name := fmt.Sprintf("%d-%d", f.RuleID, t.TestID)
			res := Result{Name: name, Passed: true}
			ov, hasOv := overrides[name]
			for i, st := range t.Stages {
				reason := runStage(addr, st, logs)
				if reason != "" && hasOv {
					alt := st
					alt.Output = merge(st.Output, ov)
					if runStage(addr, alt, logs) == "" {
						res.Reason = "passed with override; own expectation: " + reason
						reason = ""
					}
				}
				if reason != "" {
					res.Passed = false
					res.Reason = fmt.Sprintf("stage %d: %s", i+1, reason)
					break
				}
			}
			out = append(out, res)
		}
	}
	return out
}

// merge returns the override's output: as in go-ftw's overrides file, an
// override replaces the stage's expected output as a whole.
func merge(_, ov Output) Output { return ov }

// runStage sends one stage's request and checks its output; it returns ""
// when the stage passes, or why it failed.
func runStage(addr string, st Stage, logs Logs) string {
	raw, err := st.Input.Raw()
	if err != nil {
		return err.Error()
	}
	status, id, err := roundTrip(addr, raw)
	if st.Output.ExpectError {
		if err != nil || status == http.StatusBadRequest {
			return ""
		}
		return fmt.Sprintf("expected an error, got status %d", status)
	}
	if err != nil {
		return fmt.Sprintf("request failed: %v", err)
	}
	if st.Output.Status != 0 && status != st.Output.Status {
		return fmt.Sprintf("status %d, want %d", status, st.Output.Status)
	}
	l := st.Output.Log
	if len(l.ExpectIDs) == 0 && len(l.NoExpectIDs) == 0 && l.MatchRegex == "" && l.NoMatchRegex == "" {
		return ""
	}
	if id == "" {
		if len(l.ExpectIDs) == 0 && l.MatchRegex == "" {
			return "" // nothing was logged, and nothing had to be
		}
		return fmt.Sprintf("no request id: the edge answered %d before the WAF ran", status)
	}
	ids, lines := logs(id)
	for _, want := range l.ExpectIDs {
		if !slices.Contains(ids, want) {
			return fmt.Sprintf("rule %d did not match (matched %v)", want, ids)
		}
	}
	for _, not := range l.NoExpectIDs {
		if slices.Contains(ids, not) {
			return fmt.Sprintf("rule %d matched, want no match", not)
		}
	}
	all := strings.Join(lines, "\n")
	if l.MatchRegex != "" {
		re, err := regexp.Compile(l.MatchRegex)
		if err != nil {
			return fmt.Sprintf("bad match_regex: %v", err)
		}
		if !re.MatchString(all) {
			return fmt.Sprintf("log does not match %q", l.MatchRegex)
		}
	}
	if l.NoMatchRegex != "" {
		re, err := regexp.Compile(l.NoMatchRegex)
		if err != nil {
			return fmt.Sprintf("bad no_match_regex: %v", err)
		}
		if re.MatchString(all) {
			return fmt.Sprintf("log matches %q", l.NoMatchRegex)
		}
	}
	return ""
}

// roundTrip writes raw to a new connection to addr and reads the response
// status and its Rampart-Request-Id.
func roundTrip(addr string, raw []byte) (int, string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(raw); err != nil {
		return 0, "", fmt.Errorf("writing the request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, "", fmt.Errorf("reading the response: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Rampart-Request-Id"), nil
}

// Summary counts results, leaving out the names in ignore.
func Summary(results []Result, ignore map[string]string) (passed, total int, failed []Result) {
	for _, r := range results {
		if _, ok := ignore[r.Name]; ok {
			continue
		}
		total++
		if r.Passed {
			passed++
		} else {
			failed = append(failed, r)
		}
	}
	return passed, total, failed
}

// Rate formats passed/total as "1234/1300 (94.9%)".
func Rate(passed, total int) string {
	if total == 0 {
		return "0/0"
	}
	return strconv.Itoa(passed) + "/" + strconv.Itoa(total) + " (" + strconv.FormatFloat(100*float64(passed)/float64(total), 'f', 1, 64) + "%)"
}
