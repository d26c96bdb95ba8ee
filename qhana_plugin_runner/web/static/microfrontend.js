// SPDX-License-Identifier: Apache-2.0
/*
 * Glue between a plugin micro-frontend (an iframe) and the QHAna UI (its parent), over
 * window.postMessage.
 *
 * Runs only inside a frame, once per window. It reports "ui-loaded", the page height
 * ("ui-resize") and "ui-loading"; it sends forms marked data-target="api" itself (fetch,
 * following the 303 to the task) and tells the host the result ("form-submit"/"form-error");
 * it asks the host for data and plugin URLs and fills the answers into the inputs.
 *
 * Allowed parent origins come from the data-parent-origins attribute of this <script> tag
 * (space separated), plus the page's own origin. Without it, messages go to "*" and incoming
 * messages are accepted from the host window only (not from sibling or child frames).
 *
 * Plugins can hook in through window._qhana_microfrontend_state:
 *   messageHandler(event) -> true when the message was handled,
 *   formSubmitHandler(event, dataInputs, privateInputs) -> true when the submit was handled,
 *   targetHeight = number | "full" (sent with every ui-resize).
 * getPluginContext() returns the last "plugin-context" message.
 */
(function () {
    "use strict";

    const HEIGHT_INTERVAL_MS = 50;
    const HEIGHT_MAX_UNCHANGED = 60; // ~3 s of a stable height, then stop polling
    const FORM_DATA_TYPE = "application/x-www-form-urlencoded";
    const PRIVATE_SELECTOR = "[data-private], [data-token], input[type=password]";

    window.getPluginContext = function getPluginContext() {
        const current = window._qhana_microfrontend_state;
        return current ? current.pluginContext : undefined;
    };

    if (window.top === window.self) {
        return; // not framed: a plain HTML form
    }
    const existing = window._qhana_microfrontend_state;
    if (existing && existing.initialized) {
        return; // loaded twice in the same window
    }

    // A state object a plugin created before this script ran keeps its hooks and identity.
    const state = existing || {};
    const defaults = {
        href: window.location.href,
        lastHeight: 0,
        heightUnchangedCount: 0,
        preventSubmit: false,
        formSubmitHandler: null,
        messageHandler: null,
    };
    for (const key of Object.keys(defaults)) {
        if (state[key] === undefined) {
            state[key] = defaults[key];
        }
    }
    state.initialized = true;
    window._qhana_microfrontend_state = state;

    const hostWindow = window.opener || window.parent;
    const allowedOrigins = readAllowedOrigins(document.currentScript);
    let hostOrigin = detectHostOrigin();
    let heightTimer = null;
    let lastSubmitter = null;

    // ---- origins and messaging -------------------------------------------------------------

    function readAllowedOrigins(script) {
        const tag = script || document.querySelector("script[data-parent-origins]");
        const raw = tag ? tag.getAttribute("data-parent-origins") : null;
        if (!raw || !raw.trim()) {
            return null;
        }
        const origins = [];
        for (const entry of raw.trim().split(/\s+/)) {
            if (entry === "*") {
                return null;
            }
            try {
                origins.push(new URL(entry).origin);
            } catch (error) {
                console.warn("microfrontend.js: ignoring invalid parent origin", entry);
            }
        }
        // the runner's own pages (the /debug/ debugger) may frame it too: frame-ancestors 'self'
        if (window.location.origin && window.location.origin !== "null" && !origins.includes(window.location.origin)) {
            origins.push(window.location.origin);
        }
        return origins;
    }

    function detectHostOrigin() {
        // Only Chromium and WebKit know the ancestor origins; elsewhere the origin is learned
        // from the first accepted message.
        const ancestors = window.location.ancestorOrigins;
        if (hostWindow === window.parent && ancestors && ancestors.length > 0) {
            return ancestors[0];
        }
        return null;
    }

    function targetOrigins() {
        if (allowedOrigins === null) {
            return ["*"];
        }
        if (hostOrigin !== null) {
            return allowedOrigins.includes(hostOrigin) ? [hostOrigin] : [];
        }
        // postMessage delivers only when the target origin matches, so at most one of these
        // reaches the host, and none reaches a host that is not allowed.
        return allowedOrigins;
    }

    function sendMessage(message) {
        for (const origin of targetOrigins()) {
            hostWindow.postMessage(message, origin);
        }
    }

    function acceptsMessage(event) {
        if (event.source !== hostWindow) {
            return false; // a sibling frame, a child frame or a window it opened
        }
        if (allowedOrigins === null) {
            return true;
        }
        if (!allowedOrigins.includes(event.origin)) {
            return false;
        }
        hostOrigin = event.origin;
        return true;
    }

    // ---- height monitoring ------------------------------------------------------------------

    function measureHeight() {
        const body = document.body ? document.body.scrollHeight : 0;
        return Math.max(body, document.documentElement.scrollHeight);
    }

    function sendHeight(height) {
        const message = { type: "ui-resize", height: height };
        if (state.targetHeight != null) {
            message.targetHeight = state.targetHeight;
        }
        sendMessage(message);
    }

    function checkHeight() {
        const height = measureHeight();
        if (height !== state.lastHeight) {
            state.lastHeight = height;
            state.heightUnchangedCount = 0;
            sendHeight(height);
            return;
        }
        state.heightUnchangedCount += 1;
        if (state.heightUnchangedCount >= HEIGHT_MAX_UNCHANGED && heightTimer !== null) {
            clearInterval(heightTimer);
            heightTimer = null;
        }
    }

    function monitorHeight() {
        state.heightUnchangedCount = 0;
        if (heightTimer === null) {
            heightTimer = setInterval(checkHeight, HEIGHT_INTERVAL_MS);
        }
    }

    function observeChanges() {
        window.addEventListener("resize", monitorHeight);
        window.addEventListener("load", monitorHeight);
        document.addEventListener("input", monitorHeight, true);
        document.addEventListener("toggle", monitorHeight, true);
        if (typeof MutationObserver !== "undefined" && document.body) {
            new MutationObserver(monitorHeight).observe(document.body, {
                attributes: true,
                childList: true,
                characterData: true,
                subtree: true,
            });
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    function hasOwn(object, key) {
        return typeof key === "string" && Object.prototype.hasOwnProperty.call(object, key);
    }

    function splitList(value) {
        return (value || "").split(/\s+/).filter((item) => item !== "");
    }

    function escapeSelector(value) {
        return window.CSS && CSS.escape ? CSS.escape(value) : String(value).replace(/["\\]/g, "\\$&");
    }

    function byDataInputId(selector, inputKey) {
        return document.querySelectorAll(selector + '[data-input-id="' + escapeSelector(inputKey) + '"]');
    }

    function setInputValue(input, value) {
        input.value = value;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function showHint(spans, hintClass, text) {
        for (const span of spans) {
            span.textContent = text;
            const hint = span.closest(hintClass);
            if (hint) {
                hint.hidden = false;
            }
        }
        monitorHeight();
    }

    function isPrivate(input) {
        return input.matches(PRIVATE_SELECTOR) || input.type === "file";
    }

    // ---- outgoing requests for data and plugin URLs -----------------------------------------

    function requestUrlInfo() {
        for (const input of document.querySelectorAll('input[data-input-type="data"]')) {
            if (input.value) {
                sendMessage({ type: "request-data-url-info", inputKey: input.id, dataUrl: input.value });
            }
        }
        for (const input of document.querySelectorAll('input[data-input-type="plugin"]')) {
            if (input.value) {
                sendMessage({ type: "request-plugin-url-info", inputKey: input.id, pluginUrl: input.value });
            }
        }
    }

    function onChooseFile(button) {
        const inputKey = button.getAttribute("data-input-id");
        const contentTypes = splitList(button.getAttribute("data-content-type"));
        const acceptedInputType = button.getAttribute("data-input") || "*";
        if (!button.classList.contains("related")) {
            sendMessage({
                type: "request-data-url",
                inputKey: inputKey,
                acceptedInputType: acceptedInputType,
                acceptedContentTypes: contentTypes.length ? contentTypes : ["*"],
            });
            return;
        }
        const related = document.getElementById(button.getAttribute("data-related-input-id") || "");
        if (!related || !related.value) {
            return;
        }
        const message = {
            type: "request-related-data-url",
            inputKey: inputKey,
            dataUrl: related.value,
            relation: button.getAttribute("data-relation") || "any",
            userInteraction: true,
            acceptedInputType: acceptedInputType,
        };
        if (button.getAttribute("data-include-self") === "true") {
            message.includeSelf = true;
        }
        const specific = contentTypes.filter((type) => type !== "*");
        if (specific.length) {
            message.acceptedContentType = specific[0];
        }
        sendMessage(message);
    }

    function onChoosePlugin(button) {
        const message = {
            type: "request-plugin-url",
            inputKey: button.getAttribute("data-input-id"),
            pluginTags: splitList(button.getAttribute("data-plugin-tags")),
        };
        const name = button.getAttribute("data-plugin-name");
        const version = button.getAttribute("data-plugin-version");
        if (name) {
            message.pluginName = name;
        }
        if (version) {
            message.pluginVersion = version;
        }
        sendMessage(message);
    }

    function onShowPreview(button) {
        const input = document.getElementById(button.getAttribute("data-input-id") || "");
        if (input && input.value) {
            sendMessage({ type: "request-data-preview", dataUrl: input.value });
        }
    }

    function wireRelatedButton(button) {
        const related = document.getElementById(button.getAttribute("data-related-input-id") || "");
        const update = () => {
            button.disabled = !(related && related.value);
        };
        if (related) {
            related.addEventListener("input", update);
            related.addEventListener("change", update);
        }
        update();
    }

    function wireButtons() {
        for (const button of document.querySelectorAll(".qhana-choose-file-button")) {
            button.hidden = false;
            if (button.classList.contains("related")) {
                wireRelatedButton(button);
            }
            button.addEventListener("click", () => onChooseFile(button));
        }
        for (const button of document.querySelectorAll(".qhana-choose-plugin-button")) {
            button.hidden = false;
            button.addEventListener("click", () => onChoosePlugin(button));
        }
        for (const button of document.querySelectorAll(".qhana-show-preview-button")) {
            button.addEventListener("click", () => onShowPreview(button));
        }
    }

    // ---- form submission --------------------------------------------------------------------

    function censoredFormData(form, formData) {
        const privateNames = new Set();
        for (const input of form.querySelectorAll(PRIVATE_SELECTOR)) {
            if (input.name) {
                privateNames.add(input.name);
            }
        }
        const censored = new URLSearchParams();
        formData.forEach((value, key) => {
            if (privateNames.has(key)) {
                censored.append(key, "***");
            } else if (typeof value !== "string") {
                censored.append(key, "Uploaded file: " + (value.name || ""));
            } else {
                censored.append(key, value);
            }
        });
        return { formData: censored.toString(), privateInputs: Array.from(privateNames) };
    }

    function collectDataInputs(form) {
        const urls = [];
        for (const input of form.querySelectorAll('[data-input-type="data"]')) {
            if (input.value) {
                urls.push(input.value);
            }
        }
        return urls;
    }

    function readError(response) {
        const fallback = { code: response.status, status: response.statusText || "Error " + response.status };
        return response
            .text()
            .then((text) => {
                try {
                    const body = JSON.parse(text);
                    return body !== null && typeof body === "object" && !Array.isArray(body)
                        ? Object.assign({}, fallback, body)
                        : Object.assign({}, fallback, { body: body });
                } catch (error) {
                    return fallback;
                }
            })
            .catch(() => fallback);
    }

    function sendToApi(url, method, formData, submitMessage) {
        const init = { method: method.toUpperCase(), credentials: "same-origin", redirect: "follow" };
        const target = new URL(url, window.location.href);
        if (init.method === "GET") {
            formData.forEach((value, key) => {
                if (typeof value === "string") {
                    target.searchParams.append(key, value);
                }
            });
        } else {
            init.body = formData;
        }
        return fetch(target.toString(), init)
            .then((response) => {
                if (response.status === 200) {
                    sendMessage(Object.assign({}, submitMessage, { resultUrl: response.url }));
                    return undefined;
                }
                return readError(response).then((error) => {
                    sendMessage({ type: "form-error", status: response.status, error: error });
                });
            })
            .catch((error) => {
                const reason = error && error.message ? error.message : String(error);
                sendMessage({
                    type: "form-error",
                    status: 0,
                    error: { code: "network-error", status: "Network error: " + reason },
                });
            });
    }

    function submitTarget(form, submitter) {
        return (submitter && submitter.getAttribute("data-target")) || form.getAttribute("data-target") || "microfrontend";
    }

    function onSubmit(event) {
        const form = event.currentTarget;
        const submitter = event.submitter || lastSubmitter;
        lastSubmitter = null;
        if (submitTarget(form, submitter) !== "api") {
            sendMessage("ui-loading");
            return; // the browser submits to the micro-frontend itself
        }
        event.preventDefault();
        sendMessage("ui-loading");
        const formData = new FormData(form);
        if (submitter && submitter.name) {
            formData.append(submitter.name, submitter.value);
        }
        const censored = censoredFormData(form, formData);
        const dataInputs = collectDataInputs(form);
        if (state.formSubmitHandler && state.formSubmitHandler(event, dataInputs, censored.privateInputs)) {
            return;
        }
        // getAttribute, not form.action/form.method: an input named "action" or "method" (the
        // scipy minimizer has one) shadows those properties of the form element
        const url = submitter && submitter.hasAttribute("formaction") ? submitter.formAction : new URL(form.getAttribute("action") || "", window.location.href).toString();
        const method = submitter && submitter.hasAttribute("formmethod") ? submitter.formMethod : form.getAttribute("method") || "post";
        const submitMessage = {
            type: "form-submit",
            formData: censored.formData,
            formDataType: FORM_DATA_TYPE,
            dataInputs: dataInputs,
            submitUrl: new URL(url, window.location.href).toString(),
        };
        if (state.preventSubmit) {
            sendMessage(submitMessage); // the host submits itself
            return;
        }
        sendToApi(url, method || "post", formData, submitMessage);
    }

    function instrumentForms() {
        for (const form of document.querySelectorAll("form.qhana-form")) {
            form.addEventListener("submit", onSubmit);
            // browsers without SubmitEvent.submitter: remember the last clicked submit button
            form.addEventListener("click", (event) => {
                const button = event.target && event.target.closest ? event.target.closest("[type=submit]") : null;
                if (button) {
                    lastSubmitter = button;
                }
            });
        }
    }

    // ---- incoming messages --------------------------------------------------------------------

    function loadCss(urls) {
        for (const url of urls || []) {
            let href;
            try {
                href = new URL(url, window.location.href);
            } catch (error) {
                continue;
            }
            if (href.protocol !== "http:" && href.protocol !== "https:") {
                continue;
            }
            const link = document.createElement("link");
            link.rel = "stylesheet";
            link.href = href.toString();
            link.addEventListener("load", monitorHeight);
            document.head.appendChild(link);
        }
        document.body.style.background = "transparent";
        monitorHeight();
    }

    function onDataUrlResponse(data) {
        const input = document.getElementById(data.inputKey);
        if (!input || input.type === "file" || data.href == null) {
            return;
        }
        setInputValue(input, data.href);
        const name = (data.filename || data.href) + (data.version != null ? " (v" + data.version + ")" : "");
        const types = [data.dataType, data.contentType].filter((item) => item).join(" – ");
        showHint(byDataInputId(".selected-file-name", data.inputKey), ".selected-file-hint", types ? name + " " + types : name);
    }

    function onPluginUrlResponse(data) {
        const input = document.getElementById(data.inputKey);
        if (!input || data.pluginUrl == null) {
            return;
        }
        setInputValue(input, data.pluginUrl);
        const name = data.pluginName || data.pluginUrl;
        const text = data.pluginVersion ? name + " (" + data.pluginVersion + ")" : name;
        showHint(byDataInputId(".selected-plugin-name", data.inputKey), ".selected-plugin-hint", text);
    }

    function parseAutofill(value, encoding) {
        const entries = new Map();
        const add = (key, item) => {
            entries.set(key, (entries.get(key) || []).concat([item]));
        };
        if (encoding === "application/json") {
            const parsed = JSON.parse(value);
            if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
                throw new Error("autofill JSON must be an object");
            }
            for (const key of Object.keys(parsed)) {
                const item = parsed[key];
                for (const single of Array.isArray(item) ? item : [item]) {
                    add(key, single);
                }
            }
        } else if (encoding === FORM_DATA_TYPE) {
            new URLSearchParams(value).forEach((item, key) => add(key, item));
        } else {
            throw new Error("unsupported autofill encoding " + encoding);
        }
        return entries;
    }

    function fillInput(input, items) {
        if (isPrivate(input)) {
            return;
        }
        const texts = items.map((item) => (item == null ? "" : String(item)));
        if (input.type === "checkbox") {
            input.checked = texts.some((text) => ["on", "true", "True", "1"].includes(text));
        } else if (input.type === "radio") {
            input.checked = texts.includes(input.value);
        } else if (input.multiple && input.options) {
            for (const option of input.options) {
                option.selected = texts.includes(option.value);
            }
        } else {
            input.value = texts[0];
        }
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function onAutofill(data) {
        let entries;
        try {
            entries = parseAutofill(data.value || "", data.encoding);
        } catch (error) {
            console.warn("microfrontend.js: cannot autofill", error);
            return;
        }
        for (const form of document.querySelectorAll("form.qhana-form")) {
            entries.forEach((items, name) => {
                for (const input of form.querySelectorAll('[name="' + escapeSelector(name) + '"]')) {
                    fillInput(input, items);
                }
            });
        }
        requestUrlInfo();
        monitorHeight();
    }

    function sendSubmitStatus() {
        sendMessage({ type: "ui-submit-status", isAllowedToSubmit: !state.preventSubmit });
    }

    const stringHandlers = {
        "ui-prevent-submit": () => {
            state.preventSubmit = true;
            sendSubmitStatus();
        },
        "ui-allow-submit": () => {
            state.preventSubmit = false;
            sendSubmitStatus();
        },
        "ui-submit-status": sendSubmitStatus,
    };

    const objectHandlers = {
        "load-css": (data) => loadCss(data.urls),
        "data-url-response": onDataUrlResponse,
        "plugin-url-response": onPluginUrlResponse,
        "autofill-response": onAutofill,
        "plugin-context": (data) => {
            state.pluginContext = data;
        },
    };

    function onMessage(event) {
        if (!acceptsMessage(event)) {
            return;
        }
        if (state.messageHandler && state.messageHandler(event)) {
            return;
        }
        const data = event.data;
        if (typeof data === "string") {
            if (hasOwn(stringHandlers, data)) {
                stringHandlers[data]();
            }
            return;
        }
        if (data !== null && typeof data === "object" && hasOwn(objectHandlers, data.type)) {
            objectHandlers[data.type](data);
        }
    }

    // ---- start-up -------------------------------------------------------------------------------

    function start() {
        instrumentForms();
        wireButtons();
        window.addEventListener("message", onMessage);
        sendMessage("ui-loaded");
        state.lastHeight = measureHeight();
        sendHeight(state.lastHeight);
        observeChanges();
        monitorHeight();
        requestUrlInfo();
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
