package postgres

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// BenchmarkApplyChanges measures typical dialog steps from 64 goroutines,
// each writing its own client, as 64 chats handled in parallel would.
func BenchmarkApplyChanges(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			var seq atomic.Int64
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((64 + procs - 1) / procs)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				key := messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint("bench", seq.Add(1))}
				for i := 0; pb.Next(); i++ {
					if _, err := s.ApplyChanges(context.Background(), key, typicalStep(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkApplyChangesTranscript is BenchmarkApplyChanges with the
// transcript a dialog step writes: the client's message and the bot's reply.
func BenchmarkApplyChangesTranscript(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			var seq atomic.Int64
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((64 + procs - 1) / procs)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				key := messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint("bench", seq.Add(1))}
				for i := 0; pb.Next(); i++ {
					ch := typicalStep(i)
					ch.Messages = []crm.Message{
						{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: "Москва", PlatformMsgID: strconv.Itoa(i)},
						{Direction: crm.DirectionOut, AuthorKind: crm.AuthorBot, Text: "Спасибо! Какие у вас интересы?"},
					}
					if _, err := s.ApplyChanges(context.Background(), key, ch); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkApplyChangesVisits is BenchmarkApplyChangesTranscript with the
// step visits a dialog step records (issue 13's funnel): the answered
// step's open visit updated and the next step's visit inserted.
func BenchmarkApplyChangesVisits(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			var seq atomic.Int64
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((64 + procs - 1) / procs)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				key := messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint("bench", seq.Add(1))}
				run := seq.Load()
				for i := 0; pb.Next(); i++ {
					ch := typicalStep(i)
					ch.Messages = []crm.Message{
						{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: "Москва", PlatformMsgID: strconv.Itoa(i)},
						{Direction: crm.DirectionOut, AuthorKind: crm.AuthorBot, Text: "Спасибо! Какие у вас интересы?"},
					}
					step, next := "q"+strconv.Itoa(i%8), "q"+strconv.Itoa(i%8+1)
					ch.Visits = []crm.StepVisit{
						{Scenario: "portrait", Version: "v1", Run: run, Step: step, Event: crm.VisitAnswer, Next: next},
						{Scenario: "portrait", Version: "v1", Run: run, Step: next, Event: crm.VisitEnter},
					}
					if _, err := s.ApplyChanges(context.Background(), key, ch); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
