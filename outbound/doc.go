// Package outbound is the one HTTP and WebSocket client for every request
// Dialtone sends on an account's behalf: receipt pushes, the SmartCall
// callback, HTTP speech recognisers and the media streams to come.
//
// It holds three things that belong together:
//
//   - the egress policy (Policy): which addresses a request may reach,
//     checked when a URL is entered (CheckURL) and again on the address
//     actually connected to, after DNS (the Client's dialler), so that a
//     name resolving to a private address, a DNS rebinding or a redirect
//     cannot reach what the URL itself could not;
//   - the Client: timeouts, a cap on the size of an answer, no redirects
//     across the policy, connection reuse per destination, and caps on the
//     requests in flight per account and per destination, so that a slow
//     or dead receiver of one account never delays another account;
//   - request signatures (Signer, Verify): X-Dialtone-Signature with
//     HMAC-SHA256 over "<t>.<body>", carrying the old secret's signature
//     beside the new one while a rotated secret's grace period runs.
//
// Who set a URL decides how far it may reach (Trust): URLs an account user
// entered are Untrusted and may not reach loopback, private, shared,
// unique-local or reserved addresses unless the operator's allow-list
// names them; URLs the operator set are Trusted. Link-local and cloud
// metadata addresses are refused whoever set the URL.
package outbound
