package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rampart-edge/rampart/internal/lists"
	"github.com/rampart-edge/rampart/internal/store"
)

// List versions in the shared store (issue 14). Every activation on a
// node (CLI import handed to the server, API, feeds, rollback) is written
// into the store with its files by the lists store's publisher, in the
// transaction that makes it the active version for every node; the store
// bumps the state version, which wakes the nodes. The node that activated
// re-screens (the compliance desk's list subscriber); the other nodes see
// in applyState that the store's active versions differ from theirs,
// fetch the files by hash, verify the hashes, parse and activate them
// locally (lists.Store.Load), without the verification policy and
// without a re-screening. A parse error keeps the previous version and
// makes the node degraded. At start a node loads the store's versions
// before serving; the first node on an empty store publishes its own.

// FeedLease is the store lease held by the one node that checks the list
// feeds.
const FeedLease = "list-feeds"

// sharedLists is the App's part of it.
type sharedLists struct {
	mu     sync.Mutex // one sync at a time
	failed string     // the store's active versions (key) that failed to load
	err    error      // and why
}

// listsKey is a stable key of a set of versions.
func listsKey(vs []store.ListVersion) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		parts = append(parts, v.Source+"="+v.Hash)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// toStoreVersion is a lists.Activation as the store keeps it.
func toStoreVersion(a lists.Activation) (store.ListVersion, [][]byte) {
	v := a.Version
	sv := store.ListVersion{Source: v.Source, List: v.List, Hash: v.Hash, Files: map[string]string{}, Entities: v.Entities,
		Published: v.Published, Imported: v.Imported, Origin: v.Origin, Actor: v.Actor, Forced: v.Forced, Reason: v.Reason}
	var files [][]byte
	for _, name := range slices.Sorted(maps.Keys(a.Files)) {
		b := a.Files[name]
		h := sha256.Sum256(b)
		sv.Files[name] = hex.EncodeToString(h[:])
		files = append(files, b)
	}
	return sv, files
}

// publishLists makes ls write every activation into st.
func publishLists(ls *lists.Store, st store.Store, timeout time.Duration) {
	ls.SetPublisher(func(acts []lists.Activation) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var vs []store.ListVersion
		var files [][]byte
		for _, a := range acts {
			v, f := toStoreVersion(a)
			vs = append(vs, v)
			files = append(files, f...)
		}
		_, err := st.ActivateListVersions(ctx, vs, files, false)
		return err
	})
}

// initSharedLists runs at start, before the node serves: with versions
// in the store it loads them (replacing the node's own copies); on an
// empty store it publishes the node's active versions (bundled, config
// or persisted), unless another node starting at the same time did so
// first, then loads those.
func (a *App) initSharedLists(ctx context.Context, st store.Store, ls *lists.Store) error {
	vs, err := st.ActiveListVersions(ctx)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		acts, err := ls.Active()
		if err != nil {
			return err
		}
		if len(acts) == 0 {
			return nil
		}
		var svs []store.ListVersion
		var files [][]byte
		for _, act := range acts {
			v, f := toStoreVersion(act)
			svs = append(svs, v)
			files = append(files, f...)
		}
		done, err := st.ActivateListVersions(ctx, svs, files, true)
		if err != nil {
			return fmt.Errorf("publishing the node's lists into the empty store: %w", err)
		}
		if done {
			a.log.Info("published this node's list versions into the shared store", "sources", len(svs))
			return nil
		}
	}
	return a.syncLists(ctx, st, ls)
}

// syncLists loads the store's active versions that differ from the
// node's. A set of versions that failed to load is not tried again until
// the store's active versions change.
func (a *App) syncLists(ctx context.Context, st store.Store, ls *lists.Store) error {
	sl := &a.sharedLists
	sl.mu.Lock()
	defer sl.mu.Unlock()
	vs, err := st.ActiveListVersions(ctx)
	if err != nil {
		return err
	}
	cur := ls.Snapshot().Versions
	var todo []store.ListVersion
	for _, v := range vs {
		if c, ok := cur[v.Source]; !ok || c.Hash != v.Hash {
			todo = append(todo, v)
		}
	}
	if len(todo) == 0 {
		sl.failed, sl.err = "", nil
		return nil
	}
	key := listsKey(vs)
	if sl.failed == key {
		return sl.err
	}
	start := time.Now()
	loads := make([]lists.Loaded, 0, len(todo))
	for _, v := range todo {
		l := lists.Loaded{Version: lists.Version{Source: v.Source, List: v.List, Hash: v.Hash, Imported: v.Imported, Entities: v.Entities,
			Published: v.Published, Origin: v.Origin, Actor: v.Actor, Forced: v.Forced, Reason: v.Reason}, Files: map[string][]byte{}}
		for _, name := range slices.Sorted(maps.Keys(v.Files)) {
			h := v.Files[name]
			b, err := st.ListFile(ctx, h)
			if err != nil {
				return err // the store's fault: tried again at the next sync
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != h {
				err := fmt.Errorf("list %s version %s: file %s from the store does not match its hash", v.Source, lists.Version{Hash: v.Hash}.Short(), name)
				sl.failed, sl.err = key, err
				return err
			}
			l.Version.Files = append(l.Version.Files, name)
			l.Files[name] = b
		}
		loads = append(loads, l)
	}
	res, err := ls.Load(loads)
	if err != nil {
		err = fmt.Errorf("keeping the previous list versions: %w", err)
		sl.failed, sl.err = key, err
		return err
	}
	sl.failed, sl.err = "", nil
	for _, r := range res {
		a.log.Info("list version loaded from the shared store", "source", r.Version.Source, "version", r.Version.Short(),
			"origin", r.Version.Origin, "entities", r.Version.Entities, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}
