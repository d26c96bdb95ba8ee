// SPDX-License-Identifier: Apache-2.0
/*
 * Runs static/microfrontend.js against a tiny fake DOM and checks one scenario.
 *
 *   node microfrontend_harness.js <path to microfrontend.js> <scenario>
 *
 * Exits 0 when the scenario holds, 1 with the failed assertion otherwise. The fake DOM knows
 * just enough (simple selectors, events with bubbling, FormData, fetch, interval timers) for the
 * protocol; it is not a browser. Used by test_microfrontend_js.py.
 */
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const vm = require("node:vm");

const [scriptPath, scenarioName] = process.argv.slice(2);
const SOURCE = fs.readFileSync(scriptPath, "utf8");
const RUNNER = "http://runner.test";
const UI = "https://ui.example";

let unhandled = null;
process.on("unhandledRejection", (reason) => {
    unhandled = reason;
});

// ---- fake DOM ------------------------------------------------------------------------------

function cssEscape(value) {
    return String(value).replace(/[^a-zA-Z0-9_-]/g, (ch) => "\\" + ch);
}

function parseSelector(selector) {
    // compound selectors separated by commas: tag, .class, [attr], [attr=value], [attr="value"]
    const groups = [];
    let i = 0;
    let current = { tag: null, classes: [], attrs: [] };
    const ident = () => {
        let out = "";
        while (i < selector.length) {
            const ch = selector[i];
            if (ch === "\\") {
                out += selector[i + 1];
                i += 2;
            } else if (/[a-zA-Z0-9_-]/.test(ch)) {
                out += ch;
                i += 1;
            } else {
                break;
            }
        }
        return out;
    };
    while (i < selector.length) {
        const ch = selector[i];
        if (ch === " " && selector.slice(i).trim().startsWith(",")) {
            i += 1;
        } else if (ch === ",") {
            groups.push(current);
            current = { tag: null, classes: [], attrs: [] };
            i += 1;
            while (selector[i] === " ") i += 1;
        } else if (ch === ".") {
            i += 1;
            current.classes.push(ident());
        } else if (ch === "[") {
            i += 1;
            const name = ident();
            let value = null;
            if (selector[i] === "=") {
                i += 1;
                if (selector[i] === '"') {
                    i += 1;
                    value = "";
                    while (selector[i] !== '"') {
                        if (i >= selector.length) throw new SyntaxError("unterminated string in " + selector);
                        if (selector[i] === "\\") {
                            value += selector[i + 1];
                            i += 2;
                        } else {
                            value += selector[i];
                            i += 1;
                        }
                    }
                    i += 1;
                } else {
                    value = ident();
                }
            }
            if (selector[i] !== "]") throw new SyntaxError("bad selector " + selector);
            i += 1;
            current.attrs.push([name, value]);
        } else if (/[a-zA-Z]/.test(ch)) {
            current.tag = ident().toUpperCase();
        } else {
            throw new SyntaxError("unsupported selector " + selector);
        }
    }
    groups.push(current);
    return groups;
}

class FakeEvent {
    constructor(type, init = {}) {
        this.type = type;
        this.bubbles = Boolean(init.bubbles);
        this.defaultPrevented = false;
        Object.assign(this, init.extra || {});
    }
    preventDefault() {
        this.defaultPrevented = true;
    }
}

class Listeners {
    constructor() {
        this.listeners = {};
    }
    addEventListener(type, fn) {
        (this.listeners[type] = this.listeners[type] || []).push(fn);
    }
    fire(event) {
        event.currentTarget = this;
        for (const fn of this.listeners[event.type] || []) fn.call(this, event);
    }
}

class Element extends Listeners {
    constructor(tag, attrs, children) {
        super();
        this.tagName = tag.toUpperCase();
        this.attributes = {};
        this.children = [];
        this.parentNode = null;
        this.ownerDocument = null;
        this.textContent = "";
        this.style = {};
        this.scrollHeight = 0;
        for (const [name, value] of Object.entries(attrs || {})) this.setAttribute(name, value);
        this.value = this.attributes.value !== undefined ? this.attributes.value : "";
        this.checked = "checked" in this.attributes;
        this.hidden = "hidden" in this.attributes;
        this.disabled = "disabled" in this.attributes;
        for (const child of children || []) this.appendChild(child);
    }
    get id() {
        return this.attributes.id || "";
    }
    get name() {
        return this.attributes.name || "";
    }
    get type() {
        if (this.attributes.type) return this.attributes.type.toLowerCase();
        return this.tagName === "INPUT" ? "text" : this.tagName === "BUTTON" ? "submit" : "";
    }
    get classList() {
        const classes = (this.attributes.class || "").split(/\s+/).filter(Boolean);
        return { contains: (name) => classes.includes(name) };
    }
    get formAction() {
        const raw = this.attributes.formaction;
        return new URL(raw ? raw : this.ownerDocument.URL, this.ownerDocument.URL).toString();
    }
    get formMethod() {
        return (this.attributes.formmethod || "get").toLowerCase();
    }
    get action() {
        const raw = this.attributes.action;
        return new URL(raw ? raw : this.ownerDocument.URL, this.ownerDocument.URL).toString();
    }
    get method() {
        return (this.attributes.method || "get").toLowerCase();
    }
    getAttribute(name) {
        return name in this.attributes ? this.attributes[name] : null;
    }
    hasAttribute(name) {
        return name in this.attributes;
    }
    setAttribute(name, value) {
        this.attributes[name] = String(value);
    }
    appendChild(child) {
        child.parentNode = this;
        this.children.push(child);
        return child;
    }
    *descendants() {
        for (const child of this.children) {
            yield child;
            yield* child.descendants();
        }
    }
    matches(selector) {
        return parseSelector(selector).some(
            (group) =>
                (group.tag === null || group.tag === this.tagName) &&
                group.classes.every((name) => this.classList.contains(name)) &&
                group.attrs.every(([name, value]) =>
                    value === null ? this.hasAttribute(name) : this.getAttribute(name) === value || (name === "type" && this.type === value)
                )
        );
    }
    closest(selector) {
        for (let node = this; node instanceof Element; node = node.parentNode) {
            if (node.matches(selector)) return node;
        }
        return null;
    }
    querySelectorAll(selector) {
        parseSelector(selector); // throws like a browser on a malformed selector
        return [...this.descendants()].filter((el) => el.matches(selector));
    }
    querySelector(selector) {
        return this.querySelectorAll(selector)[0] || null;
    }
    dispatchEvent(event) {
        event.target = event.target || this;
        for (let node = this; node; node = node.parentNode) {
            node.fire(event);
            if (!event.bubbles) break;
        }
        return !event.defaultPrevented;
    }
}

function h(tag, attrs, ...children) {
    return new Element(tag, attrs, children);
}

function makeDocument(bodyChildren, scriptAttrs) {
    const script = h("script", Object.assign({ src: "/static/microfrontend.js" }, scriptAttrs || {}));
    const head = h("head", {});
    const body = h("body", {}, ...bodyChildren, script);
    const html = h("html", {}, head, body);
    const document = new Listeners();
    Object.assign(document, {
        URL: RUNNER + "/plugins/demo/ui/",
        readyState: "complete",
        documentElement: html,
        head: head,
        body: body,
        currentScript: script,
        createElement: (tag) => adopt(h(tag, {}), document),
        getElementById: (id) => [...html.descendants()].find((el) => el.id === id) || null,
        querySelectorAll: (selector) => html.querySelectorAll(selector),
        querySelector: (selector) => html.querySelector(selector),
    });
    html.parentNode = document;
    adopt(html, document);
    body.scrollHeight = 300;
    html.scrollHeight = 250;
    return document;
}

function adopt(element, document) {
    element.ownerDocument = document;
    for (const child of element.descendants()) child.ownerDocument = document;
    return element;
}

class FakeFormData {
    constructor(form) {
        this.entries = [];
        if (!form) return;
        for (const el of form.descendants()) {
            if (!["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) || !el.name || el.disabled) continue;
            if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
            if (el.type === "file") {
                this.entries.push([el.name, el.files ? el.files[0] : { name: "" }]);
            } else {
                this.entries.push([el.name, el.value]);
            }
        }
    }
    append(key, value) {
        this.entries.push([key, value]);
    }
    forEach(fn) {
        for (const [key, value] of this.entries) fn(value, key, this);
    }
}

// ---- fake window -----------------------------------------------------------------------------

function makeWorld(options = {}) {
    const posted = [];
    const parent = {
        postMessage: (message, origin) => posted.push({ message: JSON.parse(JSON.stringify(message)), origin }),
    };
    const document = makeDocument(options.body || [], options.scriptAttrs);
    const timers = new Map();
    let nextTimer = 1;
    const fetchCalls = [];
    const world = {
        posted,
        parent,
        document,
        timers,
        fetchCalls,
        fetchImpl: options.fetch || (() => Promise.resolve(response(200, "{}", RUNNER + "/tasks/1/"))),
    };
    const sandbox = {
        document,
        location: { href: document.URL, ancestorOrigins: options.ancestorOrigins },
        parent: options.notFramed ? null : parent,
        opener: null,
        console: { warn: () => {}, log: () => {}, error: () => {} },
        CSS: { escape: cssEscape },
        Event: FakeEvent,
        URL,
        URLSearchParams,
        FormData: FakeFormData,
        Map,
        Set,
        setInterval: (fn) => {
            const id = nextTimer++;
            timers.set(id, fn);
            return id;
        },
        clearInterval: (id) => timers.delete(id),
        fetch: (url, init) => {
            fetchCalls.push({ url, init });
            return world.fetchImpl(url, init);
        },
    };
    const listeners = new Listeners();
    sandbox.addEventListener = (type, fn) => listeners.addEventListener(type, fn);
    sandbox.window = sandbox;
    sandbox.self = sandbox;
    sandbox.top = options.notFramed ? sandbox : parent;
    if (options.notFramed) sandbox.parent = sandbox;
    if (options.state) sandbox._qhana_microfrontend_state = options.state;
    vm.createContext(sandbox);
    world.sandbox = sandbox;
    world.run = () => vm.runInContext(SOURCE, sandbox, { filename: "microfrontend.js" });
    world.receive = (data, origin = UI, source = parent) => {
        const event = new FakeEvent("message", { extra: { data, origin, source } });
        listeners.fire(event);
    };
    world.tick = (count = 1) => {
        for (let n = 0; n < count; n++) for (const fn of [...timers.values()]) fn();
    };
    world.messages = () => posted.map((entry) => entry.message);
    world.ofType = (type) => world.messages().filter((m) => m === type || (m && m.type === type));
    world.state = () => sandbox._qhana_microfrontend_state;
    world.submit = (form, submitter) => {
        const event = new FakeEvent("submit", { extra: { submitter } });
        form.dispatchEvent(event);
        return event;
    };
    world.click = (element) => element.dispatchEvent(new FakeEvent("click", { bubbles: true }));
    return world;
}

function response(status, body, url, statusText = "") {
    return {
        status,
        statusText,
        url,
        text: () => Promise.resolve(body),
    };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function apiForm(extra = [], formAttrs = {}) {
    const fileInput = h("input", { type: "file", name: "upload" });
    fileInput.files = [{ name: "secret.txt" }];
    return h(
        "form",
        Object.assign({ class: "qhana-form", method: "post", action: "", "data-target": "microfrontend" }, formAttrs),
        h("input", { type: "text", name: "inputStr", id: "input_str", value: "hello" }),
        h("input", { type: "password", name: "token", id: "token", value: "hunter2" }),
        h("input", { type: "text", name: "apiKey", id: "api_key", value: "k", "data-private": "" }),
        h("input", { type: "url", name: "dataUrl", id: "data_url", value: "http://backend/experiments/1/data/a/download?version=1", "data-input-type": "data" }),
        h("input", { type: "url", name: "emptyData", id: "empty_data", value: "", "data-input-type": "data" }),
        fileInput,
        ...extra,
        h("button", { class: "qhana-form-submit", type: "submit", "data-target": "microfrontend" }),
        h("button", { class: "qhana-form-submit", type: "submit", "data-target": "api", formaction: "/plugins/demo/process/" })
    );
}

function submitButton(form) {
    return form.querySelectorAll("button").find((b) => b.getAttribute("data-target") === "api");
}

// ---- scenarios ---------------------------------------------------------------------------------

const scenarios = {
    async "startup-order"() {
        const world = makeWorld({ body: [apiForm()] });
        world.run();
        const messages = world.messages();
        assert.equal(messages[0], "ui-loaded");
        assert.equal(messages[1].type, "ui-resize");
        assert.equal(messages[1].height, 300);
        assert.ok(world.posted.every((p) => p.origin === "*"));
        const state = world.state();
        assert.equal(state.lastHeight, 300);
        assert.equal(state.height, undefined);
        // prefilled data input is announced
        const info = world.ofType("request-data-url-info");
        assert.deepEqual(info, [{ type: "request-data-url-info", inputKey: "data_url", dataUrl: "http://backend/experiments/1/data/a/download?version=1" }]);
        // a second copy of the script in the same window does nothing
        world.run();
        assert.equal(world.ofType("ui-loaded").length, 1);
    },

    async "not-framed"() {
        const world = makeWorld({ notFramed: true, body: [apiForm()] });
        world.run();
        assert.equal(world.posted.length, 0);
        assert.equal(world.state(), undefined);
        assert.equal(typeof world.sandbox.getPluginContext, "function");
    },

    async "height-monitoring"() {
        const world = makeWorld();
        world.run();
        const before = world.ofType("ui-resize").length;
        world.document.body.scrollHeight = 480;
        world.tick();
        const resizes = world.ofType("ui-resize");
        assert.equal(resizes.length, before + 1);
        assert.equal(resizes[resizes.length - 1].height, 480);
        assert.equal(world.state().lastHeight, 480);
        world.tick(59);
        assert.equal(world.timers.size, 1, "still polling before ~3 s of a stable height");
        world.tick(1);
        assert.equal(world.timers.size, 0, "stops after 60 unchanged samples");
        assert.equal(world.ofType("ui-resize").length, before + 1);
    },

    async "target-height"() {
        const world = makeWorld({ state: { targetHeight: "full" } });
        world.run();
        assert.equal(world.ofType("ui-resize")[0].targetHeight, "full");
    },

    async "submit-success"() {
        const form = apiForm();
        const world = makeWorld({ body: [form] });
        world.run();
        const event = world.submit(form, submitButton(form));
        assert.ok(event.defaultPrevented);
        await flush();
        await flush();
        assert.equal(world.fetchCalls.length, 1);
        const call = world.fetchCalls[0];
        assert.equal(call.url, RUNNER + "/plugins/demo/process/");
        assert.equal(call.init.method, "POST");
        assert.ok(call.init.body instanceof FakeFormData);
        assert.ok(world.ofType("ui-loading").length === 1);
        const [submit] = world.ofType("form-submit");
        assert.ok(submit, "form-submit sent");
        const params = new URLSearchParams(submit.formData);
        assert.equal(params.get("inputStr"), "hello");
        assert.equal(params.get("token"), "***");
        assert.equal(params.get("apiKey"), "***");
        assert.equal(params.get("upload"), "Uploaded file: secret.txt");
        assert.equal(submit.formDataType, "application/x-www-form-urlencoded");
        assert.deepEqual(submit.dataInputs, ["http://backend/experiments/1/data/a/download?version=1"]);
        assert.equal(submit.submitUrl, RUNNER + "/plugins/demo/process/");
        assert.equal(submit.resultUrl, RUNNER + "/tasks/1/");
    },

    async "submit-microfrontend-target"() {
        const form = apiForm();
        const world = makeWorld({ body: [form] });
        world.run();
        const validate = form.querySelectorAll("button").find((b) => b.getAttribute("data-target") === "microfrontend");
        const event = world.submit(form, validate);
        assert.equal(event.defaultPrevented, false);
        assert.equal(world.fetchCalls.length, 0);
        assert.equal(world.ofType("ui-loading").length, 1);
    },

    async "submit-get"() {
        const form = apiForm([], { method: "get", action: "/search/", "data-target": "api" });
        const world = makeWorld({ body: [form] });
        world.run();
        world.submit(form, null);
        await flush();
        const call = world.fetchCalls[0];
        assert.equal(call.init.method, "GET");
        assert.equal(call.init.body, undefined);
        const url = new URL(call.url);
        assert.equal(url.pathname, "/search/");
        assert.equal(url.searchParams.get("inputStr"), "hello");
    },

    async "submit-shadowed-form-properties"() {
        // inputs named "method" and "action" shadow form.method/form.action in a real DOM
        const methodInput = h("input", { type: "text", name: "method", id: "method", value: "Nelder-Mead" });
        const actionInput = h("input", { type: "text", name: "action", id: "action", value: "go" });
        const form = apiForm([methodInput, actionInput], { method: "post", action: "/plugins/min/process/", "data-target": "api" });
        Object.defineProperty(form, "method", { value: methodInput });
        Object.defineProperty(form, "action", { value: actionInput });
        const world = makeWorld({ body: [form] });
        world.run();
        world.submit(form, null);
        await flush();
        const call = world.fetchCalls[0];
        assert.equal(call.init.method, "POST");
        assert.equal(new URL(call.url).pathname, "/plugins/min/process/");
        assert.equal(world.ofType("form-submit").length + world.ofType("form-error").length, 1);
    },

    async "submit-error-json"() {
        const form = apiForm();
        const body = { code: 422, status: "Unprocessable Entity", errors: { form: { inputStr: ["Missing"] } } };
        const world = makeWorld({ body: [form], fetch: () => Promise.resolve(response(422, JSON.stringify(body), RUNNER + "/p/", "UNPROCESSABLE ENTITY")) });
        world.run();
        world.submit(form, submitButton(form));
        await flush();
        await flush();
        const [error] = world.ofType("form-error");
        assert.equal(error.status, 422);
        assert.deepEqual(error.error, body);
        assert.equal(world.ofType("form-submit").length, 0);
    },

    async "submit-error-html"() {
        const form = apiForm();
        const world = makeWorld({ body: [form], fetch: () => Promise.resolve(response(500, "<html>oops</html>", RUNNER + "/p/", "INTERNAL SERVER ERROR")) });
        world.run();
        world.submit(form, submitButton(form));
        for (let i = 0; i < 4; i++) await flush();
        const [error] = world.ofType("form-error");
        assert.equal(error.status, 500);
        assert.deepEqual(error.error, { code: 500, status: "INTERNAL SERVER ERROR" });
        assert.equal(unhandled, null);
    },

    async "submit-network-error"() {
        const form = apiForm();
        const world = makeWorld({ body: [form], fetch: () => Promise.reject(new TypeError("Failed to fetch")) });
        world.run();
        world.submit(form, submitButton(form));
        for (let i = 0; i < 4; i++) await flush();
        const [error] = world.ofType("form-error");
        assert.equal(error.status, 0);
        assert.ok(error.error.code);
        assert.match(error.error.status, /Failed to fetch/);
        assert.equal(unhandled, null);
    },

    async "prevent-submit"() {
        const form = apiForm();
        const world = makeWorld({ body: [form] });
        world.run();
        world.receive("ui-prevent-submit");
        assert.deepEqual(world.ofType("ui-submit-status").pop(), { type: "ui-submit-status", isAllowedToSubmit: false });
        world.submit(form, submitButton(form));
        await flush();
        assert.equal(world.fetchCalls.length, 0);
        const [submit] = world.ofType("form-submit");
        assert.equal(submit.resultUrl, undefined);
        assert.equal(submit.submitUrl, RUNNER + "/plugins/demo/process/");
        world.receive("ui-allow-submit");
        assert.deepEqual(world.ofType("ui-submit-status").pop(), { type: "ui-submit-status", isAllowedToSubmit: true });
        world.receive("ui-submit-status");
        assert.equal(world.ofType("ui-submit-status").length, 3);
    },

    async "form-submit-hook"() {
        const form = apiForm();
        const seen = [];
        const world = makeWorld({ body: [form] });
        world.run();
        world.state().formSubmitHandler = (event, dataInputs, privateInputs) => {
            seen.push({ dataInputs: [...dataInputs], privateInputs: [...privateInputs] });
            return true;
        };
        world.submit(form, submitButton(form));
        await flush();
        assert.equal(world.fetchCalls.length, 0);
        assert.equal(seen.length, 1);
        assert.deepEqual(seen[0].privateInputs.sort(), ["apiKey", "token"]);
    },

    async "choose-file"() {
        const button = h("button", { type: "button", class: "qhana-choose-file-button", hidden: "", "data-input-id": "data_url", "data-input": "entity/list", "data-content-type": "application/json text/csv" });
        const world = makeWorld({ body: [h("form", { class: "qhana-form" }, h("input", { id: "data_url", name: "dataUrl", "data-input-type": "data" }), button)] });
        world.run();
        assert.equal(button.hidden, false);
        world.click(button);
        assert.deepEqual(world.ofType("request-data-url"), [
            { type: "request-data-url", inputKey: "data_url", acceptedInputType: "entity/list", acceptedContentTypes: ["application/json", "text/csv"] },
        ]);
    },

    async "choose-related"() {
        const related = h("input", { id: "base", name: "base", "data-input-type": "data" });
        const button = h("button", {
            type: "button",
            class: "qhana-choose-file-button related",
            hidden: "",
            disabled: "",
            "data-input-id": "extra",
            "data-related-input-id": "base",
            "data-relation": "post",
            "data-include-self": "true",
            "data-input": "entity/list",
            "data-content-type": "text/csv",
        });
        const world = makeWorld({ body: [h("form", { class: "qhana-form" }, related, h("input", { id: "extra", name: "extra", "data-input-type": "data" }), button)] });
        world.run();
        assert.equal(button.disabled, true);
        related.value = "http://backend/experiments/1/data/a/download?version=2";
        related.dispatchEvent(new FakeEvent("input", { bubbles: true }));
        assert.equal(button.disabled, false);
        world.click(button);
        const [message] = world.ofType("request-related-data-url");
        assert.deepEqual(message, {
            type: "request-related-data-url",
            inputKey: "extra",
            dataUrl: "http://backend/experiments/1/data/a/download?version=2",
            relation: "post",
            userInteraction: true,
            acceptedInputType: "entity/list",
            includeSelf: true,
            acceptedContentType: "text/csv",
        });
        assert.equal(world.sandbox.acceptedContentType, undefined, "no global variable leaks");
    },

    async "choose-plugin-empty-tags"() {
        const button = h("button", { type: "button", class: "qhana-choose-plugin-button", hidden: "", "data-input-id": "optimizer", "data-plugin-tags": "", "data-plugin-name": "", "data-plugin-version": "" });
        const world = makeWorld({ body: [h("form", { class: "qhana-form" }, h("input", { id: "optimizer", name: "optimizer", "data-input-type": "plugin" }), button)] });
        world.run();
        world.click(button);
        assert.deepEqual(world.ofType("request-plugin-url"), [{ type: "request-plugin-url", inputKey: "optimizer", pluginTags: [] }]);
    },

    async "choose-plugin-tags"() {
        const button = h("button", { type: "button", class: "qhana-choose-plugin-button", "data-input-id": "p", "data-plugin-tags": "optimizer  minimizer", "data-plugin-name": "nm", "data-plugin-version": "v1" });
        const world = makeWorld({ body: [h("form", { class: "qhana-form" }, h("input", { id: "p", name: "p", "data-input-type": "plugin", value: "http://runner/plugins/nm@v1/" }), button)] });
        world.run();
        assert.deepEqual(world.ofType("request-plugin-url-info"), [{ type: "request-plugin-url-info", inputKey: "p", pluginUrl: "http://runner/plugins/nm@v1/" }]);
        world.click(button);
        assert.deepEqual(world.ofType("request-plugin-url")[0], { type: "request-plugin-url", inputKey: "p", pluginTags: ["optimizer", "minimizer"], pluginName: "nm", pluginVersion: "v1" });
    },

    async "data-url-response-escaped-key"() {
        const key = 'we"ird]key';
        const input = h("input", { id: key, name: "weird", "data-input-type": "data" });
        const span = h("span", { class: "selected-file-name", "data-input-id": key });
        const hint = h("p", { class: "selected-file-hint", hidden: "" }, span);
        const preview = h("button", { type: "button", class: "qhana-show-preview-button", "data-input-id": key });
        const changes = [];
        input.addEventListener("change", () => changes.push(input.value));
        const world = makeWorld({ body: [h("form", { class: "qhana-form" }, input, hint, preview)] });
        world.run();
        world.receive({ type: "data-url-response", inputKey: key, href: "http://backend/d/1", dataType: "entity/list", contentType: "text/csv", filename: "data.csv", version: 3 });
        assert.equal(input.value, "http://backend/d/1");
        assert.deepEqual(changes, ["http://backend/d/1"]);
        assert.equal(span.textContent, "data.csv (v3) entity/list – text/csv");
        assert.equal(hint.hidden, false);
        world.click(preview);
        assert.deepEqual(world.ofType("request-data-preview"), [{ type: "request-data-preview", dataUrl: "http://backend/d/1" }]);
    },

    async "plugin-url-response"() {
        const input = h("input", { id: "p", name: "p", "data-input-type": "plugin" });
        const span = h("span", { class: "selected-plugin-name", "data-input-id": "p" });
        const hint = h("p", { class: "selected-plugin-hint", hidden: "" }, span);
        const world = makeWorld({ body: [h("form", { class: "qhana-form" }, input, hint)] });
        world.run();
        world.receive({ type: "plugin-url-response", inputKey: "p", pluginUrl: "http://runner/plugins/x@v1/", pluginName: "X", pluginVersion: "v1" });
        assert.equal(input.value, "http://runner/plugins/x@v1/");
        assert.equal(span.textContent, "X (v1)");
        assert.equal(hint.hidden, false);
    },

    async "autofill"() {
        const flag = h("input", { type: "checkbox", name: "flag", id: "flag", value: "true" });
        const form = h(
            "form",
            { class: "qhana-form" },
            h("input", { type: "text", name: "inputStr", id: "input_str" }),
            h("input", { type: "password", name: "token", id: "token", value: "keep" }),
            h("input", { type: "text", name: "apiKey", id: "api_key", value: "keep", "data-private": "" }),
            h("input", { type: "url", name: "dataUrl", id: "data_url", "data-input-type": "data" }),
            flag
        );
        const world = makeWorld({ body: [form] });
        world.run();
        world.receive({ type: "autofill-response", encoding: "application/x-www-form-urlencoded", value: "inputStr=a+b&token=leak&apiKey=leak&flag=on&dataUrl=http%3A%2F%2Fbackend%2Fd%2F2" });
        assert.equal(world.document.getElementById("input_str").value, "a b");
        assert.equal(world.document.getElementById("token").value, "keep");
        assert.equal(world.document.getElementById("api_key").value, "keep");
        assert.equal(flag.checked, true);
        assert.deepEqual(world.ofType("request-data-url-info").pop(), { type: "request-data-url-info", inputKey: "data_url", dataUrl: "http://backend/d/2" });
        world.receive({ type: "autofill-response", encoding: "application/json", value: JSON.stringify({ inputStr: "json", flag: false }) });
        assert.equal(world.document.getElementById("input_str").value, "json");
        assert.equal(flag.checked, false);
        world.receive({ type: "autofill-response", encoding: "application/json", value: "not json" });
        assert.equal(world.document.getElementById("input_str").value, "json");
    },

    async "load-css"() {
        const world = makeWorld();
        world.run();
        world.receive({ type: "load-css", urls: ["https://ui.example/styles.css", "javascript:alert(1)"] });
        const links = world.document.head.children.filter((el) => el.tagName === "LINK");
        assert.equal(links.length, 1);
        assert.equal(links[0].href, "https://ui.example/styles.css");
        assert.equal(links[0].rel, "stylesheet");
        assert.equal(world.document.body.style.background, "transparent");
    },

    async "plugin-context-and-hook"() {
        const world = makeWorld();
        world.run();
        world.receive({ type: "plugin-context", experimentId: "7", location: "workspace" });
        assert.deepEqual(JSON.parse(JSON.stringify(world.sandbox.getPluginContext())), { type: "plugin-context", experimentId: "7", location: "workspace" });
        world.state().messageHandler = (event) => event.data === "ui-submit-status";
        world.receive("ui-submit-status");
        assert.equal(world.ofType("ui-submit-status").length, 0, "a handled message skips the default");
        world.receive({ type: "implementations-response", implementations: [] });
        world.receive({ type: "__proto__" });
        world.receive("constructor");
    },

    async "origins-known-parent"() {
        const world = makeWorld({ scriptAttrs: { "data-parent-origins": "https://ui.example http://other.example" }, ancestorOrigins: [UI] });
        world.run();
        assert.equal(world.posted[0].message, "ui-loaded");
        assert.ok(world.posted.every((p) => p.origin === UI));
        const count = world.posted.length;
        world.receive("ui-submit-status", "https://evil.example");
        world.receive("ui-submit-status", UI, { postMessage() {} });
        assert.equal(world.posted.length, count, "messages from other origins or windows are ignored");
        world.receive("ui-submit-status", UI);
        assert.equal(world.ofType("ui-submit-status").length, 1);
    },

    async "origins-unknown-parent"() {
        const world = makeWorld({ scriptAttrs: { "data-parent-origins": "https://ui.example http://other.example:8080/" } });
        world.run();
        const loaded = world.posted.filter((p) => p.message === "ui-loaded").map((p) => p.origin);
        assert.deepEqual(loaded, ["https://ui.example", "http://other.example:8080"]);
        world.receive("ui-submit-status", "http://other.example:8080");
        const replies = world.posted.filter((p) => p.message.type === "ui-submit-status");
        assert.deepEqual(replies.map((p) => p.origin), ["http://other.example:8080"]);
    },

    async "foreign-source-default"() {
        const world = makeWorld();
        world.run();
        world.receive("ui-submit-status", "https://evil.example", { postMessage() {} });
        assert.equal(world.ofType("ui-submit-status").length, 0, "a sibling frame's message is ignored");
        world.receive("ui-submit-status", "https://any.example");
        assert.equal(world.ofType("ui-submit-status").length, 1, "without configured origins the host window is trusted");
    },

    async "origins-parent-not-allowed"() {
        const world = makeWorld({ scriptAttrs: { "data-parent-origins": "https://ui.example" }, ancestorOrigins: ["https://evil.example"] });
        world.run();
        assert.equal(world.posted.length, 0);
    },
};

(async () => {
    const scenario = scenarios[scenarioName];
    if (!scenario) {
        console.error("unknown scenario " + scenarioName + "; known: " + Object.keys(scenarios).join(", "));
        process.exit(2);
    }
    try {
        await scenario();
        await flush();
        assert.equal(unhandled, null, "unhandled promise rejection: " + unhandled);
    } catch (error) {
        console.error(error && error.stack ? error.stack : error);
        process.exit(1);
    }
    console.log("ok " + scenarioName);
})();
