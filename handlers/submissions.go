package handlers

import (
	"context"
	"errors"

	"enclave/models"

	"github.com/labstack/echo/v4"
)

// Submissions remembers the one-time tokens of create forms, so that a form
// sent twice (a double click, a retried request) creates one thing; see
// models.System.SubmitOnce.
type Submissions interface {
	SubmitOnce(ctx context.Context, userID, purpose, token string, create func() (string, error)) (result string, replayed bool, err error)
}

// FormDirectory is what a feature with create forms needs besides its
// scope: the directory for its pages and the record of submitted forms.
type FormDirectory interface {
	Directory
	Submissions
}

// submitOnce runs create once for the create form of the request, named by
// purpose (see Submissions), which carried token; create returns the id of
// what it made, which submitOnce returns, also to a repeated submission of
// the same form.
//
// The work is not cut short when the browser stops waiting (a double click
// abandons the first copy): a create cancelled after its commit would
// report a failure, free the token and let the second copy create again.
// The request's deadline still bounds it.
func submitOnce(c echo.Context, subs Submissions, purpose, token string, create func() (string, error)) (string, error) {
	u, _ := CurrentUser(c)
	req := c.Request()
	work := context.WithoutCancel(req.Context())
	if deadline, ok := req.Context().Deadline(); ok {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(work, deadline)
		defer cancel()
	}
	c.SetRequest(req.WithContext(work))
	defer c.SetRequest(req)
	id, _, err := subs.SubmitOnce(work, u.ID, purpose, token, create)
	return id, err
}

// resentToken is the one-time token to put in a create form shown again
// after a refusal: the one it was sent with (the refused submission let it
// go), or a fresh one when it carried none.
func resentToken(sent string) string {
	if sent != "" && len(sent) <= 64 {
		return sent
	}
	return models.NewFormToken()
}

// pendingSubmission is what the user reads when the same form was sent
// twice and the first copy is still being saved (a 409).
const pendingSubmission = "This form was sent twice and the first copy is still being saved. Wait a moment, then reload the page to see what it made before you send the form again."

// isPendingSubmission reports whether err says that another request is still
// acting on the same form.
func isPendingSubmission(err error) bool { return errors.Is(err, models.ErrSubmissionPending) }
