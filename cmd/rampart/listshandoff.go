package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-edge/rampart/internal/lists"
)

// handoff sends a command-line import or rollback to the rampart server
// that holds the data directory's list store, through its admin API, so
// that the server activates, audits and re-screens it (never two active
// versions).
type handoff struct {
	token string
}

func (h *handoff) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&h.token, "token", "", "admin API token, to hand the files to a running server (default $RAMPART_TOKEN)")
}

func (h *handoff) tok() string {
	if h.token != "" {
		return h.token
	}
	return os.Getenv("RAMPART_TOKEN")
}

func (h *handoff) refuse(owner lists.Owner, what string) error {
	addr := owner.Admin
	if addr == "" {
		addr = "ADMIN-ADDRESS"
	}
	return fmt.Errorf("a rampart server (pid %d) runs on this data directory and activates list versions itself; "+
		"%s through it: give an admin token with --token TOKEN or RAMPART_TOKEN=TOKEN (rampart token create --scope admin), "+
		"or call http://%s/v1/lists/%s yourself; nothing was changed", owner.PID, what, addr, map[string]string{"import the files": "import", "roll back": "rollback"}[what])
}

// importFiles uploads the files under paths to the server.
func (h *handoff) importFiles(ctx context.Context, owner lists.Owner, paths []string, opts lists.ImportOptions) ([]lists.ImportResult, error) {
	if h.tok() == "" || owner.Admin == "" {
		return nil, h.refuse(owner, "import the files")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	seen := map[string]string{}
	for _, p := range paths {
		if err := addFiles(mw, p, seen); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	q := url.Values{}
	if opts.Force {
		q.Set("force", "true")
		q.Set("reason", opts.Reason)
	}
	u := "http://" + owner.Admin + "/v1/lists/import"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return h.call(ctx, u, mw.FormDataContentType(), &body)
}

// rollback asks the server to roll back.
func (h *handoff) rollback(ctx context.Context, owner lists.Owner, version, reason string) ([]lists.ImportResult, error) {
	if h.tok() == "" || owner.Admin == "" {
		return nil, h.refuse(owner, "roll back")
	}
	b, _ := json.Marshal(map[string]string{"version": version, "reason": reason})
	return h.call(ctx, "http://"+owner.Admin+"/v1/lists/rollback", "application/json", bytes.NewReader(b))
}

func (h *handoff) call(ctx context.Context, u, ct string, body io.Reader) ([]lists.ImportResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+h.tok())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("handing the lists to the running server: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return nil, fmt.Errorf("the running server answered %s: %s", resp.Status, e.Error)
	}
	var out struct {
		Results []struct {
			Source    string            `json:"source"`
			List      string            `json:"list"`
			Version   string            `json:"version"`
			Entities  int               `json:"entities"`
			Published *time.Time        `json:"published"`
			Unchanged bool              `json:"unchanged"`
			Diff      lists.DiffSummary `json:"diff"`
			Warnings  []string          `json:"warnings"`
			Previous  *struct {
				Version string `json:"version"`
			} `json:"previous"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	res := make([]lists.ImportResult, 0, len(out.Results))
	for _, r := range out.Results {
		ir := lists.ImportResult{Version: lists.Version{Source: r.Source, List: r.List, Hash: r.Version, Entities: r.Entities},
			Unchanged: r.Unchanged, Summary: r.Diff, Warnings: r.Warnings}
		if r.Published != nil {
			ir.Version.Published = *r.Published
		}
		if r.Previous != nil {
			ir.Previous = &lists.Version{Source: r.Source, Hash: r.Previous.Version}
		}
		res = append(res, ir)
	}
	return res, nil
}

// addFiles adds a file, or a folder's list files, to the upload; the
// server groups them by name, so two files of one name are refused.
func addFiles(mw *multipart.Writer, p string, seen map[string]string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	add := func(name, path string) error {
		key := strings.ToLower(name)
		if prev, ok := seen[key]; ok {
			return fmt.Errorf("%s and %s have the same name; hand one list of a kind to the server at a time", prev, path)
		}
		seen[key] = path
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if !st.IsDir() {
		return add(filepath.Base(p), p)
	}
	return filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != p {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") || !isListFile(d.Name()) {
			return nil
		}
		return add(d.Name(), path)
	})
}

// isListFile keeps README and provenance files out of a folder upload.
func isListFile(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".csv") || strings.HasSuffix(n, ".xml")
}
