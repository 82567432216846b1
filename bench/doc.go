// Package bench holds the service's end-to-end benchmarks. They assemble
// the real components as the app does (portal client, bridge, session
// manager, event dispatcher, echo router, whatsmeow store) against the
// doubles of the two remote systems: portal/b24fake for Bitrix24 and the
// WhatsApp simulator. Everything listens on 127.0.0.1.
//
// The benchmarks run only with -bench, once each:
//
//	go test -run '^$' -bench . -benchtime=1x -v ./bench/
//
// Set TEST_MYSQL_URL (for example mysql://root@127.0.0.1:3306/test) to run
// each one on MariaDB as well as on SQLite. docs/BENCHMARKS.md lists the
// commands, what each benchmark measures and the recorded figures.
package bench
