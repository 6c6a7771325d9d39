package admin

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/rampart-edge/rampart/internal/feeds"
	"github.com/rampart-edge/rampart/internal/lists"
)

// listVersion is one active list version in GET /v1/lists and in import
// results.
type listVersion struct {
	Source   string    `json:"source"`
	List     string    `json:"list"`
	Version  string    `json:"version"` // sha256 hex of the list's files
	Imported time.Time `json:"imported"`
	// Published is when the list was published (RFC 3339), null when
	// unknown.
	Published *time.Time `json:"published"`
	Entities  int        `json:"entities"`
	Files     []string   `json:"files"`
	Origin    string     `json:"origin,omitempty"`
	Forced    bool       `json:"forced,omitempty"`
	Reason    string     `json:"reason,omitempty"`
}

func toListVersion(v lists.Version) listVersion {
	files := v.Files
	if files == nil {
		files = []string{}
	}
	lv := listVersion{Source: v.Source, List: v.List, Version: v.Hash, Imported: v.Imported, Entities: v.Entities, Files: files,
		Origin: v.Origin, Forced: v.Forced, Reason: v.Reason}
	if !v.Published.IsZero() {
		p := v.Published.UTC()
		lv.Published = &p
	}
	return lv
}

// listsStatus is the answer of GET /v1/lists.
type listsStatus struct {
	Lists    []listVersion  `json:"lists"`
	Entities int            `json:"entities"`
	Feeds    []feeds.Status `json:"feeds"`
}

// handleListsStatus answers GET /v1/lists: the active version of every
// source, sorted by source, and the total entity count.
func (s *Server) handleListsStatus(w http.ResponseWriter, r *http.Request) {
	if s.opts.Lists == nil {
		writeError(w, http.StatusServiceUnavailable, "lists are not available on this server")
		return
	}
	snap := s.opts.Lists.Snapshot()
	out := listsStatus{Lists: []listVersion{}}
	if snap != nil {
		for _, v := range snap.Versions {
			out.Lists = append(out.Lists, toListVersion(v))
			out.Entities += v.Entities
		}
	}
	slices.SortFunc(out.Lists, func(a, b listVersion) int { return strings.Compare(a.Source, b.Source) })
	out.Feeds = []feeds.Status{}
	if s.opts.Feeds != nil {
		out.Feeds = s.opts.Feeds.Statuses()
	}
	writeJSON(w, http.StatusOK, out)
}

// importResult is one source's result in POST /v1/lists/import.
type importResult struct {
	listVersion
	// Previous is the version this import replaced (null for a first
	// import).
	Previous  *listVersion `json:"previous"`
	Unchanged bool         `json:"unchanged"`
	// Diff summarises the change: counts, the first ids of each kind and
	// the path of the full diff (GET /v1/lists/{source}/{version}/diff).
	Diff     lists.DiffSummary `json:"diff"`
	Warnings []string          `json:"warnings,omitempty"`
}

// importResponse is the answer of POST /v1/lists/import.
type importResponse struct {
	Results []importResult `json:"results"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// handleListsImport answers POST /v1/lists/import. The body is either
// multipart/form-data with one or more file parts (their file names pick
// the format, such as sdn.csv, alt.csv or consolidated.xml), or the raw
// content of one file named by ?name=. All files are imported together; a
// file that does not parse is 422 naming the file and record, and every
// list keeps its previous version.
func (s *Server) handleListsImport(w http.ResponseWriter, r *http.Request) {
	if s.opts.Lists == nil {
		writeError(w, http.StatusServiceUnavailable, "lists are not available on this server")
		return
	}
	if r.ContentLength > s.opts.MaxImportBytes {
		writeError(w, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("upload of %d bytes is over the %d allowed", r.ContentLength, s.opts.MaxImportBytes))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxImportBytes)
	files, err := readUpload(r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload is over the %d bytes allowed", s.opts.MaxImportBytes))
			return
		}
		writeRequestError(w, err)
		return
	}
	q := r.URL.Query()
	opts := lists.ImportOptions{Origin: "api", Actor: actor(r), Reason: q.Get("reason")}
	if q.Has("force") {
		opts.Force = q.Get("force") != "false"
	}
	if opts.Force && strings.TrimSpace(opts.Reason) == "" {
		writeError(w, http.StatusBadRequest, "force=true needs reason=..., which the audit log records")
		return
	}
	results, err := s.opts.Lists.ImportFilesWith(opts, files)
	if err != nil {
		s.writeImportError(w, files, err)
		return
	}
	out := importResponse{Results: make([]importResult, 0, len(results))}
	for _, res := range results {
		ir := importResult{
			listVersion: toListVersion(res.Version),
			Unchanged:   res.Unchanged,
			Diff:        res.Summary,
			Warnings:    res.Warnings,
		}
		ir.Diff.FirstAdded, ir.Diff.FirstRemoved, ir.Diff.FirstChanged = nonNil(ir.Diff.FirstAdded), nonNil(ir.Diff.FirstRemoved), nonNil(ir.Diff.FirstChanged)
		if res.Previous != nil {
			p := toListVersion(*res.Previous)
			ir.Previous = &p
		}
		out.Results = append(out.Results, ir)
	}
	s.log.Info("lists imported", "results", len(out.Results))
	writeJSON(w, http.StatusOK, out)
}

// maxUploadFiles bounds the number of files in one multipart upload.
const maxUploadFiles = 32

// readUpload reads the files of an import request: multipart file parts
// or a raw body named by ?name=.
func readUpload(r *http.Request) (map[string][]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, _ := mime.ParseMediaType(ct)
	if mt == "multipart/form-data" {
		if r.URL.Query().Has("name") {
			return nil, badRequest("?name= is for a raw body; a multipart upload names each file in its part")
		}
		return readMultipart(r, params["boundary"])
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		return nil, badRequest("send multipart/form-data with file parts, or the raw file with ?name=FILENAME (such as ?name=sdn.csv)")
	}
	clean, err := cleanFileName(name)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("reading upload: %w", err)
	}
	if len(data) == 0 {
		return nil, badRequest("file %s is empty", clean)
	}
	return map[string][]byte{clean: data}, nil
}

// readMultipart reads every file part of a multipart body. Parts without
// a file name (plain form fields) are refused, so a mistyped field is not
// silently ignored.
func readMultipart(r *http.Request, boundary string) (map[string][]byte, error) {
	if boundary == "" {
		return nil, badRequest("multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(r.Body, boundary)
	files := map[string][]byte{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, err
			}
			return nil, badRequest("reading multipart upload: %v", err)
		}
		if part.FileName() == "" {
			return nil, badRequest("multipart part %q has no file name; send each list file as a file part", part.FormName())
		}
		name, err := cleanFileName(part.FileName())
		if err != nil {
			return nil, err
		}
		if _, dup := files[name]; dup {
			return nil, badRequest("file %s is uploaded twice", name)
		}
		if len(files) == maxUploadFiles {
			return nil, badRequest("more than %d files in one upload", maxUploadFiles)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, err
			}
			return nil, badRequest("reading file %s: %v", name, err)
		}
		if len(data) == 0 && !lists.MayBeEmpty(strings.ToLower(name)) {
			return nil, badRequest("file %s is empty", name)
		}
		files[name] = data
	}
	if len(files) == 0 {
		return nil, badRequest("the multipart upload holds no file")
	}
	return files, nil
}

// cleanFileName keeps the base name of an uploaded file and refuses names
// that are empty or hidden.
func cleanFileName(name string) (string, error) {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	if base == "" || base == "." || base == "/" || base == ".." || strings.HasPrefix(base, ".") {
		return "", badRequest("file name %q is not usable", name)
	}
	return base, nil
}

// writeImportError answers a failed import: 422 with the refusals when
// verification refused it (the list store logged and audited them), 422
// with the parse error otherwise.
func (s *Server) writeImportError(w http.ResponseWriter, files map[string][]byte, err error) {
	if re, ok := lists.AsRefused(err); ok {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "importing lists: " + err.Error(), "refused": re.Refusals})
		return
	}
	if files != nil {
		names := make([]string, 0, len(files))
		for n := range files {
			names = append(names, n)
		}
		slices.Sort(names)
		s.log.Warn("list import failed", "files", names, "error", err)
	}
	writeError(w, http.StatusUnprocessableEntity, "importing lists: "+err.Error()+"; the previous versions stay active")
}

// handleListDiff answers GET /v1/lists/{source}/{version}/diff: the full
// diff that led to a version.
func (s *Server) handleListDiff(w http.ResponseWriter, r *http.Request) {
	if s.opts.Lists == nil {
		writeError(w, http.StatusServiceUnavailable, "lists are not available on this server")
		return
	}
	d, err := s.opts.Lists.DiffOf(r.PathValue("source"), r.PathValue("version"))
	if err != nil {
		writeError(w, http.StatusNotFound, "no diff of that version: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, listDiffAnswer{Source: r.PathValue("source"), Version: r.PathValue("version"),
		Added: nonNil(d.Added), Removed: nonNil(d.Removed), Changed: nonNil(d.Changed)})
}

// listDiffAnswer is the full diff that led to a version: entity ids.
type listDiffAnswer struct {
	Source  string   `json:"source"`
	Version string   `json:"version"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// rollbackRequest is the body of POST /v1/lists/rollback.
type rollbackRequest struct {
	Version string `json:"version"` // an earlier version of a source (lists status --history)
	Reason  string `json:"reason"`  // kept in the audit log
}

// handleListRollback answers POST /v1/lists/rollback {"version", "reason"}:
// reactivates an earlier version (re-screened and audited like an import).
func (s *Server) handleListRollback(w http.ResponseWriter, r *http.Request) {
	if s.opts.Lists == nil {
		writeError(w, http.StatusServiceUnavailable, "lists are not available on this server")
		return
	}
	var in rollbackRequest
	if err := decodeStrict(r, &in); err != nil {
		writeRequestError(w, err)
		return
	}
	results, err := s.opts.Lists.Rollback(in.Version, lists.ImportOptions{Actor: actor(r), Reason: in.Reason})
	if err != nil {
		s.writeImportError(w, nil, err)
		return
	}
	out := importResponse{Results: []importResult{}}
	for _, res := range results {
		ir := importResult{listVersion: toListVersion(res.Version), Unchanged: res.Unchanged, Diff: res.Summary, Warnings: res.Warnings}
		if res.Previous != nil {
			p := toListVersion(*res.Previous)
			ir.Previous = &p
		}
		out.Results = append(out.Results, ir)
	}
	writeJSON(w, http.StatusOK, out)
}
