package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/shm"
)

// dictState is a map's, list's or namespace's figures, as -json writes them.
type dictState struct {
	Len        int    `json:"len"`
	Capacity   int    `json:"capacity"`
	TableBytes int    `json:"table_bytes"`
	Stripes    int    `json:"stripes"`
	Revision   uint64 `json:"revision"`
	Recovered  uint64 `json:"recovered_writers"`
	Table      string `json:"table"`
}

func isDictKind(k shm.Kind) bool {
	return k == dict.KindMap || k == dict.KindList || k == dict.KindNamespace
}

// inspectDict reads the figures of the map, list or namespace o.
func inspectDict(s *shm.Segment, o shm.ObjectInfo) (*dictState, error) {
	var st dict.Stats
	var err error
	switch o.Kind {
	case dict.KindMap:
		var m *dict.Map
		if m, err = dict.OpenMap(s, o.Name); err == nil {
			st, err = m.Stats()
		}
	case dict.KindList:
		var l *dict.List
		if l, err = dict.OpenList(s, o.Name); err == nil {
			st, err = l.Stats()
		}
	case dict.KindNamespace:
		var n *dict.Namespace
		if n, err = dict.OpenNamespace(s, o.Name); err == nil {
			st, err = n.Stats()
		}
	}
	if err != nil {
		return nil, err
	}
	return &dictState{Len: st.Len, Capacity: st.Capacity, TableBytes: st.Bytes, Stripes: st.Stripes,
		Revision: st.Revision, Recovered: st.Recovered, Table: st.Table}, nil
}

// printDicts prints, for each map, list and namespace among objs, its
// size, capacity, revision and recovered-writer count.
func printDicts(w io.Writer, objs []objectReport) {
	var rows []string
	for _, o := range objs {
		switch {
		case o.Dict != nil:
			st := o.Dict
			rows = append(rows, fmt.Sprintf("  %q\t%s\t%d\t%d\t%s\t%d\t%d\t%d\t%s", o.Name, o.Kind, st.Len, st.Capacity,
				human(st.TableBytes), st.Stripes, st.Revision, st.Recovered, st.Table))
		case o.Error != "" && isDictKind(o.kind):
			rows = append(rows, fmt.Sprintf("  %q\t%s\t%s", o.Name, o.Kind, o.Error))
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nmaps, lists and namespaces (%d)\n", len(rows))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tKIND\tLEN\tCAPACITY\tTABLE SIZE\tSTRIPES\tREVISION\tRECOVERED WRITERS\tTABLE")
	for _, r := range rows {
		fmt.Fprintln(tw, r)
	}
	tw.Flush()
}
