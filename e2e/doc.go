// Package e2e tests the app as one program. Its tests build ./app once per
// run, start the binary on free loopback ports with the WhatsApp simulator
// and a fake Bitrix24 portal (portal/b24fake), and drive it only over HTTP,
// as Bitrix24, a browser and a phone would:
//
//	TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test go test ./e2e/
//
// TestEndToEnd walks the whole flow from install to uninstall on SQLite and
// on MariaDB. TestCrash kills the binary with SIGKILL at random moments
// while messages flow both ways and checks that none is lost. Set
// CRASH_ITERATIONS for a longer run (docs/CRASHTEST.md). E2E_LOG_DIR keeps
// the binary's logs in that directory instead of the test's temporary one.
package e2e
