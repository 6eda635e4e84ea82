package admin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
)

func sampleDeliveries() []broadcast.Delivery {
	sent := time.Date(2026, 12, 1, 15, 4, 5, 0, time.FixedZone("MSK", 3*3600))
	upd := time.Date(2026, 12, 1, 12, 4, 6, 0, time.UTC)
	return []broadcast.Delivery{
		{CampaignID: 1, ClientID: 1, Platform: "telegram", PlatformUserID: "101", Status: "sent", Attempts: 1, MessageID: "55", SentAt: &sent, UpdatedAt: upd},
		{CampaignID: 1, ClientID: 2, Platform: "vk", PlatformUserID: `a "quoted", id`, Status: "failed", Reason: "ошибка, платформа", Attempts: 3, UpdatedAt: upd},
		{CampaignID: 1, ClientID: 3, Platform: "vk", PlatformUserID: "line\nbreak", Status: "skipped", Reason: "quiet_hours", UpdatedAt: upd},
	}
}

func TestDeliveryCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	out := NewDeliveryCSV(&buf)
	for _, d := range sampleDeliveries() {
		if err := out.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "campaign_id,client_id,platform,platform_user_id,status,reason,attempts,message_id,sent_at,updated_at\r\n" +
		"1,1,telegram,101,sent,,1,55,2026-12-01T12:04:05Z,2026-12-01T12:04:06Z\r\n" +
		"1,2,vk,\"a \"\"quoted\"\", id\",failed,\"ошибка, платформа\",3,,,2026-12-01T12:04:06Z\r\n" +
		"1,3,vk,\"line\r\nbreak\",skipped,quiet_hours,0,,,2026-12-01T12:04:06Z\r\n"
	if buf.String() != want {
		t.Errorf("csv:\n%q\nwant\n%q", buf.String(), want)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 4 || rows[2][3] != `a "quoted", id` || rows[2][5] != "ошибка, платформа" || rows[3][3] != "line\nbreak" {
		t.Errorf("read back: %q, %v", rows, err)
	}

	var empty bytes.Buffer
	if err := NewDeliveryCSV(&empty).Flush(); err != nil || empty.String() != strings.Join(DeliveryColumns, ",")+"\r\n" {
		t.Errorf("empty export %q, %v: want the header row", empty.String(), err)
	}
}

func TestAPIDeliveriesCSV(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	e.do(t, "POST", "/api/campaigns", newsletter)

	resp, body := e.do(t, "GET", "/api/campaigns/1/deliveries.csv", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="campaign-1-deliveries.csv"`) ||
		string(body) != strings.Join(DeliveryColumns, ",")+"\r\n" {
		t.Errorf("empty ledger: %d %v %q", resp.StatusCode, resp.Header, body)
	}

	// many rows: streamed in flushed chunks, every row read back intact
	for i := range 1234 {
		d := sampleDeliveries()[i%3]
		d.ClientID = int64(i + 1)
		e.camp.deliveries = append(e.camp.deliveries, d)
	}
	resp, body = e.do(t, "GET", "/api/campaigns/1/deliveries.csv", "")
	if resp.StatusCode != 200 || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("export: %d, transfer encoding %v (want chunked)", resp.StatusCode, resp.TransferEncoding)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 1235 || !slices.Equal(rows[0], DeliveryColumns) || rows[1235-1][1] != "1234" || rows[2][5] != "ошибка, платформа" {
		t.Fatalf("export read back: %d rows, %v", len(rows), err)
	}

	mustBody(t, e, "GET", "/api/campaigns/9/deliveries.csv", 404)
}

func TestAPIDeliveriesCSVErrorMidway(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	e.do(t, "POST", "/api/campaigns", newsletter)
	for i := range 1200 {
		e.camp.deliveries = append(e.camp.deliveries, broadcast.Delivery{CampaignID: 1, ClientID: int64(i + 1), Status: "sent"})
	}
	e.camp.deliveriesErr = fmt.Errorf("each delivery: %w", errDatabaseDown)
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/campaigns/1/deliveries.csv", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading a cut export: err = %v, want an unexpected EOF (never a file that looks whole)", err)
	}
	if !strings.Contains(e.logs.String(), "deliveries export cut short") {
		t.Errorf("not logged:\n%s", e.logs.String())
	}

	// an error before the first row is a JSON answer
	e.camp.deliveries = nil
	resp2, body := e.do(t, "GET", "/api/campaigns/1/deliveries.csv", "")
	if resp2.StatusCode != 500 || strings.Contains(string(body), "hunter2") {
		t.Errorf("error before any row: %d %s", resp2.StatusCode, body)
	}
}
