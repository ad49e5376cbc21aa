// Medplum's client SDK, @medplum/core as published (pinned in package.json),
// against a running Enclave, used as a Medplum app would use it. The Go test
// TestMedplumSDK (web/sdk_test.go) starts the server, prepares what the steps
// need and runs this script with Node 22:
//
//   ENCLAVE_URL             the server's address, ending in "/"
//   ENCLAVE_PROJECT_ID      a project
//   ENCLAVE_CLIENT_ID       an API client of the project, and its secret in
//   ENCLAVE_CLIENT_SECRET
//   ENCLAVE_SESSION_COOKIE  "name=value" of a console session of the
//                           project's admin
//   ENCLAVE_ADMIN_EMAIL     the admin's email (password "password-123"),
//                           a member of two projects
//   ENCLAVE_SDK_STEPS       the steps to run, comma-separated (see steps)
//
// Each step prints "ok <step>" or "FAIL <step>" with what went wrong; the
// script exits 1 when any step failed.

import assert from 'node:assert/strict';
import { MedplumClient } from '@medplum/core';

function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

const baseUrl = env('ENCLAVE_URL');
const projectId = env('ENCLAVE_PROJECT_ID');
// A tag no earlier run used, to find this run's resources.
const tag = `sdk${process.pid}${Date.now()}`;

// newClient is a MedplumClient on the server, without the response cache,
// so every read asks the server.
function newClient(options = {}) {
  return new MedplumClient({ baseUrl, cacheTime: 0, ...options });
}

// rejects checks that promise fails with an error whose message (which the
// SDK builds from an OperationOutcome's issues) contains text.
async function rejects(promise, text) {
  await assert.rejects(promise, (err) => {
    assert.match(String(err.message), new RegExp(text), `the error says ${JSON.stringify(err.message)}`);
    return true;
  });
}

// clientCredentials: an API client signs in with its id and secret, then
// creates, reads, updates, searches (following next links) and deletes
// resources, and reads their history, in its project.
async function clientCredentials() {
  const medplum = newClient();
  await medplum.startClientLogin(env('ENCLAVE_CLIENT_ID'), env('ENCLAVE_CLIENT_SECRET'));
  const login = medplum.getActiveLogin();
  assert.equal(login?.project?.reference, `Project/${projectId}`, 'the token answer names the project');
  assert.equal(login?.profile?.reference, `ClientApplication/${env('ENCLAVE_CLIENT_ID')}`, 'and the client');

  const identifier = { system: 'https://enclave.example.org/sdk-test', value: tag };
  const created = await medplum.createResource({
    resourceType: 'Patient',
    identifier: [identifier],
    name: [{ family: tag, given: ['Ada'] }],
    birthDate: '1990-01-02',
  });
  assert.ok(created.id, 'the created Patient has an id');
  assert.equal(created.meta?.versionId, '1');

  const read = await medplum.readResource('Patient', created.id);
  assert.deepEqual(read.name, [{ family: tag, given: ['Ada'] }]);

  const updated = await medplum.updateResource({ ...read, gender: 'female' });
  assert.equal(updated.meta?.versionId, '2');
  assert.equal(updated.gender, 'female');

  const history = await medplum.readHistory('Patient', created.id);
  assert.equal(history.resourceType, 'Bundle');
  assert.deepEqual(
    history.entry.map((e) => e.resource?.meta?.versionId),
    ['2', '1'],
    'the history lists both versions, newest first'
  );

  const found = await medplum.searchResources('Patient', { identifier: `${identifier.system}|${tag}` });
  assert.deepEqual(
    found.map((p) => p.id),
    [created.id]
  );
  const one = await medplum.searchOne('Patient', { family: tag });
  assert.equal(one?.id, created.id);
  const none = await medplum.searchOne('Patient', { family: `${tag}-nobody` });
  assert.equal(none, undefined);

  // More of the same family than a page holds: the SDK follows the next
  // links until it has them all.
  const more = [];
  for (let i = 0; i < 4; i++) {
    more.push((await medplum.createResource({ resourceType: 'Patient', name: [{ family: tag, given: [`P${i}`] }] })).id);
  }
  const pages = [];
  for await (const page of medplum.searchResourcePages('Patient', { family: tag, _count: 2 })) {
    pages.push(page.map((p) => p.id));
  }
  assert.equal(pages.length, 3, `pages ${JSON.stringify(pages)}`);
  assert.deepEqual(pages.flat().sort(), [created.id, ...more].sort());
  const counted = await medplum.search('Patient', { family: tag, _total: 'accurate', _count: 1 });
  assert.equal(counted.total, 5);

  // A refusal reads as the OperationOutcome's text.
  await rejects(medplum.createResource({ resourceType: 'Patient', birthDate: 'yesterday' }), 'birthDate');

  await medplum.deleteResource('Patient', created.id);
  await rejects(medplum.readResource('Patient', created.id), 'deleted');

  // An API client is no admin of its project.
  await rejects(
    medplum.invite(projectId, { resourceType: 'Practitioner', firstName: 'No', lastName: 'Body', email: 'no@example.org' }),
    'Only admins'
  );
}

// adminWithSession: the admin endpoints, called through the SDK by the
// project's admin. Until Enclave signs users in with tokens the SDK can get
// (POST /auth/login), the SDK's requests carry the admin's console session
// cookie instead, through its fetch option: everything else is the SDK's own.
async function adminWithSession() {
  const cookie = env('ENCLAVE_SESSION_COOKIE');
  const medplum = newClient({
    fetch: (url, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('Cookie', cookie);
      return fetch(url, { ...init, headers });
    },
  });
  const admin = `admin/projects/${projectId}`;

  const project = await medplum.get(admin);
  assert.equal(project.project?.id, projectId);
  const plain = project.members.filter((m) => !m.admin);
  assert.equal(plain.length, 1, `one plain member in ${JSON.stringify(project.members)}`);

  // Medplum's app sends admin and accessPolicy at the top level too.
  const invited = await medplum.invite(projectId, {
    resourceType: 'Practitioner',
    firstName: 'Nia',
    lastName: 'Ng',
    email: `${tag}@example.org`,
    sendEmail: false,
    admin: false,
    membership: { admin: true },
  });
  assert.equal(invited.resourceType, 'ProjectMembership');
  assert.equal(invited.admin, true);
  assert.match(invited.invitation?.url ?? '', /\/invite\//);

  // A member made admin and back, as the SDK's users do it: read, change,
  // send the membership back.
  const path = `${admin}/members/${plain[0].id}`;
  const member = await medplum.get(path);
  assert.equal(member.resourceType, 'ProjectMembership');
  assert.equal((await medplum.post(path, { ...member, admin: true })).admin, true);
  assert.equal((await medplum.get(path)).admin, true);
  assert.equal((await medplum.post(path, { ...member, admin: false })).admin, false);
  await rejects(medplum.post(path, { ...member, resourceType: 'Patient' }), 'ProjectMembership');

  // A client made through the admin API signs in and works.
  const made = await medplum.post(`${admin}/client`, { name: `Client ${tag}`, description: 'Made by the SDK' });
  assert.equal(made.resourceType, 'ClientApplication');
  assert.ok(made.secret, 'the new client comes with its secret');
  const app = newClient();
  await app.startClientLogin(made.id, made.secret);
  const patient = await app.createResource({ resourceType: 'Patient', name: [{ family: `${tag}-client` }] });
  assert.equal((await app.readResource('Patient', patient.id)).id, patient.id);

  await medplum.delete(path);
  await rejects(medplum.get(path), 'Not found');
}

// userSignIn: a person registers through the SDK (a new account and its
// first project), works in it with the token processCode gets, makes an API
// client and an invitation through the admin API, and signs out; then a
// member of two projects signs in and picks one.
async function userSignIn() {
  const medplum = newClient();
  const email = `${tag}.grace@example.org`;
  const started = await medplum.startNewUser({
    firstName: 'Grace',
    lastName: 'Hopper',
    email,
    password: 'compiler-1952',
    projectId: 'new',
    recaptchaToken: '',
  });
  assert.ok(started.login, 'startNewUser answers a login');
  const made = await medplum.startNewProject({ login: started.login, projectName: `SDK ${tag}` });
  assert.ok(made.code, 'startNewProject answers a code');
  const profile = await medplum.processCode(made.code);
  assert.equal(profile.resourceType, 'Practitioner');
  assert.equal(medplum.getProject()?.name, `SDK ${tag}`);
  assert.equal(medplum.isProjectAdmin(), true, 'the registered user is admin of their project');
  const ownProject = medplum.getProject().id;
  assert.notEqual(ownProject, projectId);

  // The FHIR API with the user's token.
  const created = await medplum.createResource({ resourceType: 'Patient', name: [{ family: tag, given: ['Grace'] }] });
  const updated = await medplum.updateResource({ ...created, gender: 'female' });
  assert.equal(updated.meta?.versionId, '2');
  const history = await medplum.readHistory('Patient', created.id);
  assert.equal(history.entry.length, 2);
  assert.deepEqual(
    (await medplum.searchResources('Patient', { family: tag })).map((p) => p.id),
    [created.id],
    'the search finds only this project\'s Patient'
  );
  await medplum.deleteResource('Patient', created.id);
  await rejects(medplum.readResource('Patient', created.id), 'deleted');

  // The admin API with the user's token: a client, which signs in, and an
  // invitation.
  const admin = `admin/projects/${ownProject}`;
  const client = await medplum.post(`${admin}/client`, { name: `Client ${tag}` });
  const app = newClient();
  await app.startClientLogin(client.id, client.secret);
  assert.equal(app.getActiveLogin()?.project?.reference, `Project/${ownProject}`);
  const invited = await medplum.invite(ownProject, {
    resourceType: 'Practitioner',
    firstName: 'Nia',
    lastName: 'Ng',
    email: `${tag}.nia@example.org`,
    sendEmail: false,
  });
  assert.equal(invited.resourceType, 'ProjectMembership');
  // Another project's admin API refuses this token.
  await rejects(medplum.get(`admin/projects/${projectId}`), 'Only admins');

  // Signing out ends the token on the server, not only in the SDK.
  const token = medplum.getAccessToken();
  await medplum.signOut();
  const after = await fetch(`${baseUrl}fhir/R4/Patient`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(after.status, 401, 'the token is refused after signOut');

  // A member of two projects chooses one.
  const member = newClient();
  const login = await member.startLogin({ email: env('ENCLAVE_ADMIN_EMAIL'), password: 'password-123' });
  assert.equal(login.code, undefined, 'two projects: no code before a choice');
  const choice = login.memberships.find((m) => m.project.reference === `Project/${projectId}`);
  assert.ok(choice, `the project is among ${JSON.stringify(login.memberships)}`);
  const chosen = await member.post('auth/profile', { login: login.login, profile: choice.id });
  await member.processCode(chosen.code);
  assert.equal(member.getProject()?.id, projectId);
  await member.signOut();
}

// patient: a patient registers in a project whose registration is open
// (startNewUser with its id, then startNewPatient) and acts as that patient.
async function patientSignUp() {
  const medplum = newClient();
  const started = await medplum.startNewUser({
    firstName: 'Pat',
    lastName: 'Ient',
    email: `${tag}.pat@example.org`,
    password: 'patient-pw-1',
    projectId,
    recaptchaToken: '',
  });
  const { code } = await medplum.startNewPatient({ login: started.login, projectId });
  const profile = await medplum.processCode(code);
  assert.equal(profile.resourceType, 'Patient');
  assert.equal(medplum.getProject()?.id, projectId);
  assert.equal(medplum.isProjectAdmin(), false);
  assert.equal((await medplum.readResource('Patient', profile.id)).id, profile.id, 'the patient reads their own Patient');
  await medplum.signOut();
}

const steps = {
  patient: patientSignUp,
  user: userSignIn,
  client: clientCredentials,
  'admin-session': adminWithSession,
};

let failed = 0;
for (const name of env('ENCLAVE_SDK_STEPS').split(',')) {
  const step = steps[name];
  try {
    if (!step) {
      throw new Error(`no step ${name}; the steps are ${Object.keys(steps).join(', ')}`);
    }
    await step();
    console.log(`ok ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err?.stack ?? err}`);
    if (err?.outcome) {
      console.log(`  outcome: ${JSON.stringify(err.outcome)}`);
    }
  }
}
process.exit(failed ? 1 : 0);
