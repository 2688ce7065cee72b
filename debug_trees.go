package shepherd

import "github.com/shepherd-go/shepherd/goroutines"

// This file owns how the debug page tells trees apart: goroutines are
// matched to the nodes of their own tree (their labelTree), so two roots
// with equal names, such as two supervisors both called "app", each list
// their own goroutines and never the other's.

// debugTrees maps a tree's identity to its nodes by path. Roots whose tree
// the page cannot know (a supervisor that has not run) are under "".
type debugTrees map[string]map[string]*debugNode

// of returns the nodes of tree, making the map on first use.
func (ts debugTrees) of(tree string) map[string]*debugNode {
	m := ts[tree]
	if m == nil {
		m = map[string]*debugNode{}
		ts[tree] = m
	}
	return m
}

// owner returns the node that lists g: the node at g's path, or the
// nearest above it, in g's own tree; failing that, in the roots of
// unknown tree, which are matched by path alone. nil if none covers it.
func (ts debugTrees) owner(g goroutines.Stack) *debugNode {
	if n := owner(ts[g.Tree], g.Path); n != nil || g.Tree == "" {
		return n
	}
	return owner(ts[""], g.Path)
}

// rootTree returns the identity of the tree r shows, "" if unknown.
func rootTree(r *Supervisor) string { return r.treeID() }
