package auth

import fbauth "firebase.google.com/go/v4/auth"

// Accounts is the account lookup a Verifier makes for revocation.
type Accounts = accounts

// WrapAccounts puts wrap around v's account lookups: a test counts them or
// changes what they answer.
func (v *Verifier) WrapAccounts(wrap func(Accounts) Accounts) { v.accounts = wrap(v.accounts) }

// UserRecord is the SDK's account record.
type UserRecord = fbauth.UserRecord
