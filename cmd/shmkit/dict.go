package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/shm"
)

// inspectDicts prints, for each ready map, list and namespace among objs,
// its size, capacity, revision and recovered-writer count.
func inspectDicts(stdout io.Writer, s *shm.Segment, objs []shm.ObjectInfo) {
	var rows []string
	for _, o := range objs {
		if !o.Ready || o.Err != nil {
			continue
		}
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
		default:
			continue
		}
		if err != nil {
			rows = append(rows, fmt.Sprintf("  %q\t%v\t%s", o.Name, o.Kind, shortErr(err)))
			continue
		}
		rows = append(rows, fmt.Sprintf("  %q\t%v\t%d\t%d\t%s\t%d\t%d\t%d\t%s", o.Name, o.Kind, st.Len, st.Capacity,
			human(st.Bytes), st.Stripes, st.Revision, st.Recovered, st.Table))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(stdout, "\nmaps, lists and namespaces (%d)\n", len(rows))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tKIND\tLEN\tCAPACITY\tTABLE SIZE\tSTRIPES\tREVISION\tRECOVERED WRITERS\tTABLE")
	for _, r := range rows {
		fmt.Fprintln(tw, r)
	}
	tw.Flush()
}
