package console

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/scenario"
)

// Diagram geometry, in SVG user units.
const (
	boxWidth    = 260
	boxGapX     = 60
	layerGapY   = 90
	diagramPad  = 20
	lineHeight  = 16
	boxHeadH    = 24 // the step id and kind
	maxBoxLines = 3  // lines of the question shown in a box
	boxChars    = 32 // characters of a line of the question
	backLane    = 40 // room right of the boxes for edges going up
)

// transition is one way from a step to another: a plain next, a
// conditional branch, the default after the conditions, or a button.
type transition struct {
	From, To string
	// Label is the button caption, the condition, or "" for a plain next;
	// Kind says which (transitionNext, …).
	Label, Kind string
}

// Transition kinds (their captions are "scenarios.edge.<kind>").
const (
	transitionNext    = "next"
	transitionIf      = "if"
	transitionElse    = "else"
	transitionButton  = "button"
	transitionSkipped = "skip"
)

// transitions lists every transition of g's steps in file order: each
// button with its own next, each branch of next: (the unconditional last
// one is "else" after conditions), and the skip word's way (the default
// next) on a step with skip: true.
func transitions(g *scenario.Graph) []transition {
	var out []transition
	for _, id := range g.Order {
		st := g.Steps[id]
		for _, o := range st.Options {
			if o.Next != "" {
				out = append(out, transition{From: id, To: o.Next, Label: o.Text, Kind: transitionButton})
			}
		}
		conditional := false
		for _, b := range st.Next {
			switch {
			case b.Cond != nil:
				conditional = true
				out = append(out, transition{From: id, To: b.Goto, Label: b.Source, Kind: transitionIf})
			case conditional:
				out = append(out, transition{From: id, To: b.Goto, Kind: transitionElse})
			default:
				out = append(out, transition{From: id, To: b.Goto, Kind: transitionNext})
			}
		}
		if st.Skip && len(st.Next) > 0 && conditional {
			out = append(out, transition{From: id, To: st.Next[len(st.Next)-1].Goto, Label: g.SkipWord, Kind: transitionSkipped})
		}
	}
	return out
}

// diagram is a scenario's steps laid out in layers from the start step
// down, with the transitions as edges between the boxes.
type diagram struct {
	Width, Height int
	Boxes         []diagramBox
	Edges         []diagramEdge
}

// diagramBox is one step's box.
type diagramBox struct {
	ID, Kind string
	// Lines are the question, wrapped and cut to maxBoxLines, each where
	// it is written; HeadX, HeadY where the id and kind are.
	Lines        []boxLine
	X, Y, W, H   int
	HeadX, HeadY int
	Start, End   bool
	Layer        int
}

// boxLine is a line of text in a box.
type boxLine struct {
	X, Y int
	Text string
}

// diagramEdge is the arrow of one or more transitions between two steps
// (several buttons to one step share an arrow and list their labels).
type diagramEdge struct {
	From, To string
	Labels   []string
	// Path is the SVG path; LabelX/LabelY where the label is written.
	Path           string
	LabelX, LabelY int
	// Up is true for an edge to a step in the same or an earlier layer.
	Up bool
}

// layoutDiagram computes g's diagram: layers by the shortest distance from
// the start step (the loader guarantees every step is reachable), boxes of
// a layer side by side in the order they are reached, edges down from a
// box's bottom to the next box's top, and edges up (loops, back jumps)
// drawn through a lane right of every box. label turns a transition into
// the text its arrow carries.
func layoutDiagram(g *scenario.Graph, label func(transition) string) diagram {
	layers, layerOf := layerSteps(g)
	d := diagram{}
	widest := 0
	for _, l := range layers {
		widest = max(widest, len(l))
	}
	contentW := widest*boxWidth + (widest-1)*boxGapX
	y := diagramPad
	byID := map[string]*diagramBox{}
	for li, l := range layers {
		rowW := len(l)*boxWidth + (len(l)-1)*boxGapX
		x := diagramPad + (contentW-rowW)/2
		rowH := 0
		for _, id := range l {
			st := g.Steps[id]
			b := diagramBox{ID: id, Kind: st.Input.String(), X: x, Y: y, W: boxWidth, Layer: li,
				Start: id == g.Start, End: st.End, HeadX: x + 10, HeadY: y + 17}
			if st.Say != nil {
				for i, l := range wrapText(st.Say.Raw, boxChars, maxBoxLines) {
					b.Lines = append(b.Lines, boxLine{X: x + 10, Y: y + boxHeadH + 12 + i*lineHeight, Text: l})
				}
			}
			b.H = boxHeadH + lineHeight*max(len(b.Lines), 1) + 8
			rowH = max(rowH, b.H)
			d.Boxes = append(d.Boxes, b)
			x += boxWidth + boxGapX
		}
		y += rowH + layerGapY
	}
	for i := range d.Boxes {
		byID[d.Boxes[i].ID] = &d.Boxes[i]
	}
	d.Edges = edges(g, byID, layerOf, label)
	d.Width = diagramPad*2 + contentW + backLane*(1+countUp(d.Edges))
	d.Height = y - layerGapY + diagramPad
	return d
}

// layerSteps orders g's steps into layers by breadth-first search from the
// start, following transitions in file order.
func layerSteps(g *scenario.Graph) ([][]string, map[string]int) {
	next := map[string][]string{}
	for _, t := range transitions(g) {
		next[t.From] = append(next[t.From], t.To)
	}
	layerOf := map[string]int{g.Start: 0}
	queue := []string{g.Start}
	layers := [][]string{{g.Start}}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, to := range next[id] {
			if _, seen := layerOf[to]; seen {
				continue
			}
			l := layerOf[id] + 1
			layerOf[to] = l
			if l == len(layers) {
				layers = append(layers, nil)
			}
			layers[l] = append(layers[l], to)
			queue = append(queue, to)
		}
	}
	// Steps the transitions do not reach (none in a loaded scenario) go last.
	for _, id := range g.Order {
		if _, ok := layerOf[id]; !ok {
			layerOf[id] = len(layers)
			layers = append(layers, []string{id})
		}
	}
	return layers, layerOf
}

// edges merges the transitions by (from, to) and routes each arrow.
func edges(g *scenario.Graph, byID map[string]*diagramBox, layerOf map[string]int, label func(transition) string) []diagramEdge {
	var out []diagramEdge
	index := map[[2]string]int{}
	for _, t := range transitions(g) {
		k := [2]string{t.From, t.To}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, diagramEdge{From: t.From, To: t.To, Up: layerOf[t.To] <= layerOf[t.From]})
		}
		if s := label(t); s != "" {
			out[i].Labels = append(out[i].Labels, s)
		}
	}
	right := 0
	for _, b := range byID {
		right = max(right, b.X+b.W)
	}
	lane := 0
	for i := range out {
		e := &out[i]
		from, to := byID[e.From], byID[e.To]
		if !e.Up {
			x1, y1 := from.X+from.W/2, from.Y+from.H
			x2, y2 := to.X+to.W/2, to.Y
			my := (y1 + y2) / 2
			e.Path = fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1, my, x2, my, x2, y2)
			// The label sits near the target so the labels of one
			// source's arrows spread apart.
			e.LabelX, e.LabelY = x1+(x2-x1)*7/10, y1+(y2-y1)*7/10-4
			continue
		}
		lane++
		// Up: down into the gap under the source, right to the lane past
		// every box, up to the gap over the target and into its top, so
		// no segment crosses a box.
		lx := right + backLane*lane
		off := 6 + (lane%4)*6
		x1, y1 := from.X+from.W-20-(lane%4)*8, from.Y+from.H
		x2, y2 := to.X+to.W-20-(lane%4)*8, to.Y
		e.Path = fmt.Sprintf("M%d %d V%d H%d V%d H%d V%d", x1, y1, y1+off, lx, y2-off, x2, y2)
		e.LabelX, e.LabelY = lx, (y1+y2)/2
	}
	return out
}

func countUp(es []diagramEdge) int {
	n := 0
	for _, e := range es {
		if e.Up {
			n++
		}
	}
	return n
}

// wrapText breaks s into at most n lines of at most width characters at
// spaces; what does not fit ends with "…".
func wrapText(s string, width, n int) []string {
	words := strings.Fields(s)
	var lines []string
	cur := ""
	for _, w := range words {
		if utf8.RuneCountInString(w) > width {
			w = string([]rune(w)[:width-1]) + "…"
		}
		switch {
		case cur == "":
			cur = w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
		if len(lines) == n {
			last := []rune(lines[n-1])
			if len(last) >= width {
				last = last[:width-1]
			}
			lines[n-1] = string(last) + "…"
			return lines
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
