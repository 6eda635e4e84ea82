package crm

import "time"

// Reminder is one reminder the bot sent a client who left a question of a
// scenario unanswered (a step's `remind:`), as the funnel reads it:
// reminded → came back.
type Reminder struct {
	ID       int64
	ClientID int64
	// Scenario, Version and Step are the question reminded of.
	Scenario string
	Version  string
	Step     string
	// Run identifies the conversation reminded (its start in Unix
	// microseconds, as step visits record it); 0 when unknown.
	Run int64
	// N is the number of the reminder for that question, from 1.
	N int
	// Key identifies the reminder (the id of its turn): recorded once.
	Key string
	// Text is what the reminder said; it is kept in the transcript (a
	// message by AuthorReminder), not with the funnel's row.
	Text   string
	SentAt time.Time
	// AnsweredAt is when the client answered the question after the
	// reminder (in the same conversation); nil while they have not.
	AnsweredAt *time.Time
}

// ReminderStat is the funnel of one reminder of one question: how many
// clients got it and how many answered the question afterwards.
type ReminderStat struct {
	Scenario string
	Step     string
	N        int
	Sent     int64
	Answered int64
}
