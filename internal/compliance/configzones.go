package compliance

import (
	"context"
	"errors"
	"fmt"

	"github.com/rampart-edge/rampart/internal/audit"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
)

func auditZone(actor, action string, z store.Zone) audit.Event {
	return audit.Event{Actor: actor, Action: action, Subject: "zone:" + z.ID,
		Data: audit.MustData(map[string]any{"host": z.Host, "aliases": z.Aliases, "account_id": z.AccountID,
			"status": z.Status, "reasons": z.Reasons, "source": z.Source})}
}

func auditScreening(actor string, sc *store.Screening) audit.Event {
	return audit.Event{Actor: actor, Action: audit.ActionScreeningRun, Subject: sc.SubjectType + ":" + sc.SubjectID,
		Data: audit.MustData(map[string]any{"screening_id": sc.ID, "result": sc.Result, "lists": sc.Lists, "matches": sc.Matches})}
}

// SyncConfigZones passes the config file's zones through the zone gate, at
// start and on every reload: a zone new to the store is created (source
// "config", actor "config") with its screening; a known one is re-screened
// and its status updated when the outcome changed. A suspended zone stays
// suspended (only a reinstate decision lifts it). It returns the zones that
// must not be served (status other than active), by host, with their
// reasons, and logs each of them.
func (c *Service) SyncConfigZones(ctx context.Context, zones []config.Zone) (map[string]string, error) {
	blocked := map[string]string{}
	for _, zc := range zones {
		cur, err := c.s.GetZoneByHost(ctx, zc.Host)
		var skip map[string]bool
		if err == nil {
			wl, werr := c.loadWhitelist(ctx, store.SubjectZone, cur.ID)
			if werr != nil {
				return nil, werr
			}
			skip = wl[subjectKey(store.SubjectZone, cur.ID)]
		}
		status, reasons, ms, lv := c.screenZone(zc, nil, skip)
		sc := store.Screening{Result: status, Lists: lv, Matches: matchesJSON(ms)}
		// Under a suspended zone (cover.go): a new zone goes to review
		// with a case; one held in review for it stays there until a
		// decision clears it.
		var curState *ZoneState
		if err == nil {
			st := stateOf(cur)
			curState = &st
		}
		covered := c.coveredNames(append([]string{zc.Host}, zc.Aliases...), curState)
		if len(covered) > 0 && status == store.ZoneActive && (curState == nil || cur.Status == store.ZoneReview) {
			status = store.ZoneReview
			reasons = append(reasons, covered...)
			sc.Result = status
		}
		switch {
		case errors.Is(err, store.ErrNotFound) && status == store.ZoneReview:
			z := store.Zone{Host: zc.Host, Aliases: mustJSON(nonNilStrings(zc.Aliases)), Origins: mustJSON(nonNilStrings(zc.Origins)),
				Settings: []byte("{}"), Status: status, Reasons: reasonsJSON(reasons), Source: store.SourceConfig}
			if _, err := c.createZone(ctx, &z, &sc, reasons, audit.ActorConfig); err != nil {
				return nil, err
			}
		case errors.Is(err, store.ErrNotFound):
			z := store.Zone{Host: zc.Host, Aliases: mustJSON(nonNilStrings(zc.Aliases)), Origins: mustJSON(nonNilStrings(zc.Origins)),
				Settings: []byte("{}"), Status: status, Reasons: reasonsJSON(reasons), Source: store.SourceConfig}
			if err := store.CreateZoneWithScreening(ctx, c.s, &z, &sc, audit.ActorConfig); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, fmt.Errorf("screening config zone %s: %w", zc.Host, err)
		default:
			if cur.Status == store.ZoneSuspended {
				status = store.ZoneSuspended
				break
			}
			// A zone a re-screening put in review keeps that status until
			// a compliance decision, unless the gate now rejects it.
			if cur.Status == store.ZoneReview && status == store.ZoneActive && cur.Source == store.SourceConfig && len(ms) == 0 {
				status = store.ZoneActive
			}
			if cur.Status != status {
				sc.SubjectType, sc.SubjectID = store.SubjectZone, cur.ID
				if err := store.RecordScreening(ctx, c.s, &sc, status, reasonsJSON(reasons), audit.ActorConfig); err != nil {
					return nil, err
				}
			}
		}
		if status != store.ZoneActive {
			blocked[zc.Host] = status
			c.log.Warn("config zone not served: it did not pass the compliance gate", "zone", zc.Host, "status", status, "reasons", reasons)
		}
	}
	if err := c.Refresh(ctx); err != nil {
		return nil, err
	}
	return blocked, nil
}
