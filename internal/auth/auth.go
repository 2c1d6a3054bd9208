// Package auth is who a request comes from: a user named by an API token or
// by a web session that OpenID Connect opened, and what that user may see.
package auth

import (
	"context"
	"slices"
)

// User is the person behind a request.
type User struct {
	Name  string
	Admin bool
}

type userKey struct{}

// With carries the user in the context.
func With(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// From is the request's user; nil when the server runs open and the
// request named nobody.
func From(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

// Admins says who sees and cancels every build: users by name, or OIDC
// users by a group their provider puts them in.
type Admins struct {
	Names  []string
	Groups []string
}

// Is says whether the user named name, in groups, is an admin.
func (a Admins) Is(name string, groups []string) bool {
	return slices.Contains(a.Names, name) || slices.ContainsFunc(groups, a.Group)
}

// Group says whether members of group are admins.
func (a Admins) Group(group string) bool {
	return slices.Contains(a.Groups, group)
}

// May says whether u may see and cancel a build requested by requester.
// open: the server takes requests from anyone (local mode), so all may.
func May(open bool, u *User, requester string) bool {
	return open || u != nil && (u.Admin || u.Name == requester)
}
