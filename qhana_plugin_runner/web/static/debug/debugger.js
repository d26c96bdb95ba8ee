// SPDX-License-Identifier: Apache-2.0
/*
 * The micro-frontend debugger (/debug/frontend-debugger) and task page (/debug/tasks/<id>/).
 *
 * It plays the QHAna UI's part of the postMessage protocol (see docs/micro-frontends.md):
 * a FrameHost per iframe answers "ui-loaded" with plugin-context, sizes the frame on
 * "ui-resize", offers a picker for "request-data-url" (sample files and task outputs from
 * /debug/data-sources) and "request-plugin-url" (the plugins of /plugins/), answers the *-info
 * requests, previews data, and after "form-submit" follows the task at resultUrl: status,
 * progress, steps (the open step's UI in a second FrameHost), log and output previews.
 *
 * Messages are accepted only from the frame's own window and origin. Every text taken from a
 * plugin or a task is put into the page with textContent, never as HTML; HTML outputs are shown
 * in a sandboxed iframe without scripts.
 */
(function () {
    "use strict";

    const root = document.getElementById("debugger");
    if (!root) {
        return;
    }
    const config = root.dataset;
    const POLL_MS = 250;
    const MAX_LOG_ENTRIES = 300;
    const MAX_PREVIEW_BYTES = 512 * 1024;
    const MAX_TABLE_ROWS = 200;

    const $ = (id) => document.getElementById(id);
    const debug = (window.qhanaDebugger = { messages: [], plugins: [], task: null });

    // ---- small helpers ----------------------------------------------------------------------

    function element(tag, attrs, children) {
        const node = document.createElement(tag);
        for (const [key, value] of Object.entries(attrs || {})) {
            if (value === undefined || value === null || value === false) {
                continue;
            }
            if (key === "text") {
                node.textContent = String(value);
            } else if (key === "className") {
                node.className = value;
            } else {
                node.setAttribute(key, value === true ? "" : String(value));
            }
        }
        for (const child of children || []) {
            node.append(child);
        }
        return node;
    }

    function absolute(url) {
        return new URL(url, window.location.href).toString();
    }

    function originOf(url) {
        try {
            return new URL(url, window.location.href).origin;
        } catch (error) {
            return null;
        }
    }

    function matchesType(pattern, value) {
        if (!pattern || pattern === "*") {
            return true;
        }
        const [wantedMajor, wantedMinor] = pattern.split("/");
        const [major, minor] = (value || "").split("/");
        return wantedMajor === major && (wantedMinor === "*" || wantedMinor === minor);
    }

    function logMessage(direction, frameName, message) {
        const entry = { direction: direction, frame: frameName, message: message, time: Date.now() };
        debug.messages.push(entry);
        const list = $("message-log");
        const text = typeof message === "string" ? JSON.stringify(message) : JSON.stringify(message, null, 1);
        const item = element("li", { className: "message-" + direction }, [
            element("span", { className: "message-meta", text: (direction === "in" ? "← " : "→ ") + frameName }),
            element("code", { text: text }),
        ]);
        list.prepend(item);
        while (list.children.length > MAX_LOG_ENTRIES) {
            list.lastElementChild.remove();
        }
    }

    function fetchJson(url) {
        return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then((response) => {
            if (!response.ok) {
                return response.text().then((body) => {
                    throw new Error(url + " answered " + response.status + ": " + body.slice(0, 300));
                });
            }
            return response.json();
        });
    }

    // ---- catalogues: plugins and data sources ------------------------------------------------

    let pluginsPromise = null;

    function loadPlugins() {
        if (pluginsPromise === null) {
            pluginsPromise = fetchJson(config.pluginsUrl)
                .then((body) =>
                    Promise.all(
                        (body.plugins || []).map((entry) =>
                            fetchJson(entry.apiRoot)
                                .then((meta) => {
                                    const ui = meta.entryPoint && meta.entryPoint.uiHref;
                                    return Object.assign({}, entry, { title: meta.title, uiHref: ui ? new URL(ui, entry.apiRoot).toString() : null });
                                })
                                .catch(() => Object.assign({}, entry, { uiHref: null })),
                        ),
                    ),
                )
                .then((plugins) => {
                    debug.plugins = plugins;
                    return plugins;
                });
        }
        return pluginsPromise;
    }

    function pluginMatches(plugin, tags, name, version) {
        if (name && plugin.name !== name) {
            return false;
        }
        if (version && plugin.version !== version) {
            return false;
        }
        const own = new Set(plugin.tags || []);
        for (const tag of tags || []) {
            if (tag.startsWith("!") ? own.has(tag.slice(1)) : !own.has(tag)) {
                return false;
            }
        }
        return true;
    }

    function loadSources(dataType) {
        const url = new URL(config.sourcesUrl, window.location.href);
        if (dataType && dataType !== "*") {
            url.searchParams.set("dataType", dataType);
        }
        return fetchJson(url.toString()).then((body) => body.items || []);
    }

    function findSource(href) {
        return loadSources(null).then((items) => items.find((item) => item.href === href) || null);
    }

    // ---- the picker dialog ---------------------------------------------------------------------

    function pick(title, filterText, choices) {
        // choices: [{label, detail, value}] -> Promise of the chosen value or null
        const dialog = $("picker");
        $("picker-title").textContent = title;
        $("picker-filter").textContent = filterText;
        const box = $("picker-choices");
        box.replaceChildren();
        if (!choices.length) {
            box.append(element("p", { className: "debug-muted", text: "Nothing matches." }));
        }
        choices.forEach((choice, index) => {
            const id = "picker-choice-" + index;
            box.append(
                element("div", { className: "picker-choice" }, [
                    element("input", { type: "radio", name: "picker-choice", id: id, value: String(index), checked: index === 0 }),
                    element("label", { for: id }, [
                        element("span", { className: "picker-label", text: choice.label }),
                        element("span", { className: "picker-detail", text: choice.detail || "" }),
                    ]),
                ]),
            );
        });
        $("picker-choose").disabled = !choices.length;
        return new Promise((resolve) => {
            dialog.addEventListener(
                "close",
                () => {
                    const checked = box.querySelector("input:checked");
                    resolve(dialog.returnValue === "choose" && checked ? choices[Number(checked.value)].value : null);
                },
                { once: true },
            );
            dialog.returnValue = "";
            dialog.showModal();
        });
    }

    // ---- previews -----------------------------------------------------------------------------

    function parseCsv(text) {
        const rows = [];
        let row = [];
        let cell = "";
        let quoted = false;
        for (let i = 0; i < text.length; i++) {
            const char = text[i];
            if (quoted) {
                if (char === '"' && text[i + 1] === '"') {
                    cell += '"';
                    i++;
                } else if (char === '"') {
                    quoted = false;
                } else {
                    cell += char;
                }
            } else if (char === '"') {
                quoted = true;
            } else if (char === "," || char === ";" || char === "\t") {
                row.push(cell);
                cell = "";
            } else if (char === "\n" || char === "\r") {
                if (char === "\r" && text[i + 1] === "\n") {
                    i++;
                }
                row.push(cell);
                rows.push(row);
                row = [];
                cell = "";
                if (rows.length > MAX_TABLE_ROWS) {
                    break;
                }
            } else {
                cell += char;
            }
        }
        if (cell !== "" || row.length) {
            row.push(cell);
            rows.push(row);
        }
        return rows;
    }

    function csvTable(text) {
        const rows = parseCsv(text);
        const table = element("table", { className: "debug-table preview-table" });
        if (!rows.length) {
            return element("p", { className: "debug-muted", text: "empty CSV" });
        }
        table.append(element("thead", {}, [element("tr", {}, rows[0].map((cell) => element("th", { scope: "col", text: cell })))]));
        table.append(element("tbody", {}, rows.slice(1, MAX_TABLE_ROWS + 1).map((row) => element("tr", {}, row.map((cell) => element("td", { text: cell }))))));
        return table;
    }

    function previewKind(contentType, name) {
        const type = (contentType || "").split(";")[0].trim().toLowerCase();
        if (type === "text/csv" || /\.csv$/i.test(name || "")) return "csv";
        if (type === "application/json" || type.endsWith("+json") || /\.json$/i.test(name || "")) return "json";
        if (type.startsWith("image/")) return "image";
        if (type === "text/html" || /\.html?$/i.test(name || "")) return "html";
        if (type.startsWith("text/") || type === "application/xml") return "text";
        return null;
    }

    function renderPreview(url, contentType, name) {
        // -> Promise of a DOM node showing the data at url
        const box = element("div", { className: "preview", "data-preview-kind": "loading" });
        return fetch(url, { credentials: "same-origin" })
            .then((response) => {
                if (!response.ok) {
                    throw new Error("download answered " + response.status);
                }
                const type = contentType || response.headers.get("Content-Type") || "";
                const kind = previewKind(type, name);
                box.dataset.previewKind = kind || "none";
                if (kind === "image") {
                    return response.blob().then((blob) => {
                        box.append(element("img", { src: URL.createObjectURL(blob), alt: "preview of " + (name || url) }));
                        return box;
                    });
                }
                if (kind === null) {
                    box.append(element("p", { className: "debug-muted", text: "No preview for " + (type || "this content type") + "." }));
                    return box;
                }
                return response.text().then((text) => {
                    const clipped = text.length > MAX_PREVIEW_BYTES ? text.slice(0, MAX_PREVIEW_BYTES) : text;
                    if (kind === "csv") {
                        box.append(csvTable(clipped));
                    } else if (kind === "json") {
                        let shown = clipped;
                        try {
                            shown = JSON.stringify(JSON.parse(text), null, 2);
                        } catch (error) {
                            /* not valid JSON: show as it is */
                        }
                        box.append(element("pre", { className: "preview-json", text: shown }));
                    } else if (kind === "html") {
                        // no allow-scripts, no allow-same-origin: the document cannot run code
                        const frame = element("iframe", { sandbox: "", title: "HTML preview of " + (name || url), className: "preview-html" });
                        frame.srcdoc = clipped;
                        box.append(frame);
                    } else {
                        box.append(element("pre", { className: "preview-text", text: clipped }));
                    }
                    if (clipped.length < text.length) {
                        box.append(element("p", { className: "debug-muted", text: "(first " + MAX_PREVIEW_BYTES + " characters)" }));
                    }
                    return box;
                });
            })
            .catch((error) => {
                box.dataset.previewKind = "error";
                box.append(element("p", { className: "debug-error", text: "Preview failed: " + error.message }));
                return box;
            });
    }

    function openPreviewDialog(url, contentType, name) {
        $("preview-title").textContent = "Preview of " + (name || url);
        const body = $("preview-body");
        body.replaceChildren(element("p", { className: "debug-muted", text: "loading…" }));
        $("preview").showModal();
        return renderPreview(url, contentType, name).then((node) => body.replaceChildren(node));
    }

    // ---- the host side of the protocol, one per iframe ----------------------------------------

    class FrameHost {
        constructor(name, frame, options) {
            this.name = name;
            this.frame = frame;
            this.options = options;
            this.origin = null;
            window.addEventListener("message", (event) => this.onMessage(event));
        }

        load(url) {
            this.origin = originOf(url);
            this.frame.style.height = "";
            this.options.status("loading");
            this.frame.src = url;
        }

        send(message) {
            if (!this.frame.contentWindow || !this.origin) {
                return false;
            }
            logMessage("out", this.name, message);
            this.frame.contentWindow.postMessage(message, this.origin);
            return true;
        }

        onMessage(event) {
            if (event.source !== this.frame.contentWindow || event.origin !== this.origin) {
                return; // another frame's, or a foreign page's message
            }
            const data = event.data;
            logMessage("in", this.name, data);
            const type = typeof data === "string" ? data : data && data.type;
            const handler = this["on_" + String(type).replace(/-/g, "_")];
            if (typeof handler === "function") {
                handler.call(this, data);
            }
        }

        on_ui_loaded() {
            this.options.status("loaded");
            this.send({ type: "plugin-context", location: this.options.location, debugger: true });
        }

        on_ui_loading() {
            this.options.status("loading");
        }

        on_ui_resize(data) {
            let height = Math.max(Number(data.height) || 0, 20);
            if (data.targetHeight === "full") {
                height = Math.max(height, window.innerHeight * 0.8);
            } else if (Number(data.targetHeight) > 20) {
                height = Math.min(Math.max(height, data.targetHeight), 2 * data.targetHeight);
            }
            this.frame.style.height = Math.ceil(height) + "px";
            this.options.resized(height);
        }

        on_form_submit(data) {
            this.options.status("submitted");
            this.options.error(null);
            if (data.resultUrl) {
                followTask(data.resultUrl);
            }
        }

        on_form_error(data) {
            this.options.status("error");
            const error = data.error || {};
            let message = String(error);
            if (typeof error === "object") {
                message = error.message || error.status || "";
                if (error.errors) {
                    message += " " + JSON.stringify(error.errors); // per-field messages of flask-smorest
                }
            }
            this.options.error("Submit failed (" + data.status + "): " + message);
        }

        on_request_data_url(data) {
            const accepted = data.acceptedContentTypes && data.acceptedContentTypes.length ? data.acceptedContentTypes : ["*"];
            this.pickData(data.inputKey, data.acceptedInputType || "*", accepted);
        }

        on_request_related_data_url(data) {
            const accepted = data.acceptedContentType ? [data.acceptedContentType] : ["*"];
            this.pickData(data.inputKey, data.acceptedInputType || "*", accepted, data.dataUrl);
        }

        pickData(inputKey, dataType, contentTypes, relatedTo) {
            loadSources(dataType).then((items) => {
                const fitting = items.filter((item) => contentTypes.some((type) => matchesType(type, item.contentType)));
                const choices = fitting.map((item) => ({
                    label: item.name,
                    detail: item.dataType + " – " + item.contentType + (item.taskId ? " (task " + item.taskId + ")" : " (sample)"),
                    value: item,
                }));
                const filter = "data type " + dataType + ", content type " + contentTypes.join(" or ") + (relatedTo ? ", related to " + relatedTo : "");
                return pick("Choose data for " + inputKey, filter, choices).then((item) => {
                    if (item) {
                        this.send(dataUrlResponse(inputKey, item));
                    }
                });
            });
        }

        on_request_data_url_info(data) {
            findSource(data.dataUrl).then((item) => {
                this.send(item ? dataUrlResponse(data.inputKey, item) : { type: "data-url-response", inputKey: data.inputKey, href: data.dataUrl });
            });
        }

        on_request_data_preview(data) {
            findSource(data.dataUrl).then((item) => openPreviewDialog(data.dataUrl, item ? item.contentType : null, item ? item.name : null));
        }

        on_request_plugin_url(data) {
            loadPlugins().then((plugins) => {
                const fitting = plugins.filter((plugin) => pluginMatches(plugin, data.pluginTags, data.pluginName, data.pluginVersion));
                const choices = fitting.map((plugin) => ({
                    label: plugin.title || plugin.name,
                    detail: plugin.name + " " + plugin.version + " [" + (plugin.tags || []).join(", ") + "]",
                    value: plugin,
                }));
                const filter = "tags: " + ((data.pluginTags || []).join(", ") || "any") + (data.pluginName ? ", name " + data.pluginName : "");
                return pick("Choose a plugin for " + data.inputKey, filter, choices).then((plugin) => {
                    if (plugin) {
                        this.send(pluginUrlResponse(data.inputKey, plugin));
                    }
                });
            });
        }

        on_request_plugin_url_info(data) {
            loadPlugins().then((plugins) => {
                const plugin = plugins.find((item) => item.apiRoot === data.pluginUrl);
                this.send(plugin ? pluginUrlResponse(data.inputKey, plugin) : { type: "plugin-url-response", inputKey: data.inputKey, pluginUrl: data.pluginUrl });
            });
        }

        on_implementations_request() {
            this.send({ type: "implementations-response", implementations: [] });
        }
    }

    function dataUrlResponse(inputKey, item) {
        return { type: "data-url-response", inputKey: inputKey, href: item.href, dataType: item.dataType, contentType: item.contentType, filename: item.name };
    }

    function pluginUrlResponse(inputKey, plugin) {
        return { type: "plugin-url-response", inputKey: inputKey, pluginUrl: plugin.apiRoot, pluginName: plugin.name, pluginVersion: plugin.version };
    }

    function statusSetter(badge, spinner) {
        return (status) => {
            badge.textContent = status;
            badge.dataset.status = status;
            if (spinner) {
                spinner.hidden = status !== "loading";
            }
        };
    }

    function errorSetter(box) {
        return (text) => {
            box.hidden = !text;
            box.textContent = text || "";
        };
    }

    const mainHost = new FrameHost("micro-frontend", $("frontend-frame"), {
        location: "workspace",
        status: statusSetter($("frontend-status"), $("frontend-loading")),
        error: errorSetter($("frontend-error")),
        resized: () => {},
    });
    const stepHost = new FrameHost("step", $("step-frame"), {
        location: "timeline-step",
        status: statusSetter($("step-status"), null),
        error: errorSetter($("step-error")),
        resized: () => {},
    });
    debug.hosts = { main: mainHost, step: stepHost };

    // ---- following a task -------------------------------------------------------------------

    let followed = null; // {url, timer, id}

    function taskIdOf(url) {
        const match = /\/tasks\/(\d+)\/?(?:[?#].*)?$/.exec(new URL(url, window.location.href).pathname);
        return match ? match[1] : null;
    }

    function followTask(url) {
        const absoluteUrl = absolute(url);
        if (followed && followed.url === absoluteUrl) {
            poll(); // a step of the same task was submitted: look again now
            return;
        }
        if (followed && followed.timer) {
            clearTimeout(followed.timer);
        }
        const id = taskIdOf(absoluteUrl);
        followed = { url: absoluteUrl, timer: null, id: id, stepHref: null, outputsShown: false };
        $("task").hidden = false;
        $("task-link").textContent = id ? "#" + id : absoluteUrl;
        $("task-link").href = absoluteUrl;
        $("task-outputs").replaceChildren(element("li", { className: "debug-muted", text: "none yet" }));
        $("task-log").textContent = "";
        delete $("task-links").dataset.shown;
        if (id && config.taskPageUrl) {
            const page = config.taskPageUrl.replace(/\/0\/$/, "/" + id + "/");
            if (window.location.pathname !== page) {
                window.history.pushState({ task: id }, "", page);
            }
        }
        poll();
    }

    function poll() {
        if (!followed) {
            return;
        }
        const current = followed;
        if (current.timer) {
            clearTimeout(current.timer);
            current.timer = null;
        }
        fetchJson(current.url)
            .then((task) => {
                if (followed !== current) {
                    return;
                }
                renderTask(task);
                if (task.status === "PENDING") {
                    current.timer = setTimeout(poll, POLL_MS);
                }
            })
            .catch((error) => {
                $("task-status").textContent = "error: " + error.message;
                current.timer = setTimeout(poll, POLL_MS * 8);
            });
    }

    function renderTask(task) {
        debug.task = task;
        const badge = $("task-status");
        badge.textContent = task.status;
        badge.dataset.status = task.status;
        const progress = task.progress;
        $("task-progress-box").hidden = !progress;
        if (progress) {
            const start = Number(progress.start) || 0;
            const target = Number(progress.target) || 100;
            const value = Number(progress.value) || 0;
            const bar = $("task-progress");
            bar.max = Math.max(target - start, 1);
            bar.value = Math.min(Math.max(value - start, 0), bar.max);
            $("task-progress-text").textContent = value + " / " + target + (progress.unit ? " " + progress.unit : "");
        }
        renderSteps(task.steps || [], task.status);
        const log = $("task-log");
        if (log.textContent !== (task.log || "")) {
            log.textContent = task.log || "";
        }
        renderLinks(task.links || []);
        if (task.status !== "PENDING" && !followed.outputsShown) {
            followed.outputsShown = true;
            renderOutputs(task.outputs || []);
        }
    }

    function renderSteps(steps, status) {
        const list = $("task-steps");
        list.replaceChildren();
        if (!steps.length) {
            list.append(element("li", { className: "debug-muted", text: "no steps" }));
        }
        for (const step of steps) {
            list.append(
                element("li", { className: step.cleared ? "step-cleared" : "step-open", "data-step-id": step.stepId }, [
                    element("span", { text: step.stepId + (step.cleared ? " (done)" : " (open)") + " " }),
                    element("a", { href: step.uiHref, target: "_blank", rel: "noopener", text: "UI" }),
                ]),
            );
        }
        const open = status === "PENDING" ? steps.filter((step) => !step.cleared && step.uiHref).pop() : undefined;
        $("step").hidden = !open;
        if (open && followed.stepHref !== open.uiHref) {
            followed.stepHref = open.uiHref;
            $("step-id").textContent = open.stepId;
            stepHost.options.error(null);
            stepHost.load(new URL(open.uiHref, followed.url).toString());
        }
        if (!open) {
            followed.stepHref = null;
        }
    }

    function renderLinks(links) {
        const list = $("task-links");
        const key = JSON.stringify(links);
        if (list.dataset.shown === key) {
            return;
        }
        list.dataset.shown = key;
        list.replaceChildren();
        for (const link of links) {
            list.append(element("li", {}, [element("span", { text: link.type + ": " }), element("a", { href: link.href, target: "_blank", rel: "noopener", text: link.href })]));
        }
        if (!links.length) {
            list.append(element("li", { className: "debug-muted", text: "none" }));
        }
    }

    function renderOutputs(outputs) {
        const list = $("task-outputs");
        list.replaceChildren();
        if (!outputs.length) {
            list.append(element("li", { className: "debug-muted", text: "no outputs" }));
        }
        for (const output of outputs) {
            const item = element("li", { className: "task-output", "data-name": output.name || "" }, [
                element("div", { className: "output-head" }, [
                    element("strong", { text: output.name || output.href }),
                    element("span", { className: "debug-muted", text: " " + output.dataType + " – " + output.contentType + " " }),
                    element("a", { href: output.href, download: output.name || true, text: "download" }),
                ]),
            ]);
            list.append(item);
            renderPreview(output.href, output.contentType, output.name).then((node) => item.append(node));
        }
    }

    // ---- choosing and loading a micro-frontend ------------------------------------------------

    function loadFrontend(url) {
        if (!url) {
            return;
        }
        const target = absolute(url);
        $("frontend-url").value = target;
        $("frontend").hidden = false;
        mainHost.options.error(null);
        mainHost.load(target);
    }

    function fillPluginSelect(plugins) {
        const select = $("plugin-select");
        select.replaceChildren(element("option", { value: "", text: plugins.length ? "choose a plugin…" : "no plugins loaded" }));
        for (const plugin of plugins) {
            select.append(element("option", { value: plugin.identifier, text: (plugin.title || plugin.name) + " (" + plugin.version + ")", disabled: !plugin.uiHref }));
        }
        select.addEventListener("change", () => {
            const plugin = plugins.find((item) => item.identifier === select.value);
            if (plugin && plugin.uiHref) {
                loadFrontend(plugin.uiHref);
            }
        });
        const wanted = config.initialPlugin && plugins.find((item) => item.identifier === config.initialPlugin);
        if (wanted) {
            select.value = wanted.identifier;
            if (!config.initialUrl && wanted.uiHref) {
                loadFrontend(wanted.uiHref);
            }
        }
    }

    // ---- manual messages ------------------------------------------------------------------------

    const TEMPLATES = {
        "ui-prevent-submit": "ui-prevent-submit",
        "ui-allow-submit": "ui-allow-submit",
        "ui-submit-status": "ui-submit-status",
        "load-css": { type: "load-css", urls: [absolute(document.querySelector("link[rel=stylesheet]").getAttribute("href"))] },
        "data-url-response": { type: "data-url-response", inputKey: "", href: "", dataType: "", contentType: "", filename: "", version: 1 },
        "plugin-url-response": { type: "plugin-url-response", inputKey: "", pluginUrl: "", pluginName: "", pluginVersion: "" },
        "autofill-response": { type: "autofill-response", value: "{}", encoding: "application/json" },
        "plugin-context": { type: "plugin-context", location: "workspace" },
        "implementations-response": { type: "implementations-response", implementations: [] },
    };

    function setupMessagePanel() {
        const select = $("message-template");
        for (const name of Object.keys(TEMPLATES)) {
            select.append(element("option", { value: name, text: name }));
        }
        const text = $("message-text");
        const showTemplate = () => {
            text.value = JSON.stringify(TEMPLATES[select.value], null, 2);
        };
        select.addEventListener("change", showTemplate);
        showTemplate();
        $("send-message").addEventListener("click", () => {
            const errorBox = $("message-error");
            let message;
            try {
                message = JSON.parse(text.value);
            } catch (error) {
                errorBox.hidden = false;
                errorBox.textContent = "Not JSON: " + error.message;
                return;
            }
            errorBox.hidden = true;
            const host = !$("step").hidden && $("frontend").hidden ? stepHost : mainHost;
            if (!host.send(message)) {
                errorBox.hidden = false;
                errorBox.textContent = "No micro-frontend is loaded.";
            }
        });
        $("clear-messages").addEventListener("click", () => $("message-log").replaceChildren());
    }

    // ---- start ------------------------------------------------------------------------------------

    setupMessagePanel();
    $("load-frontend").addEventListener("click", () => loadFrontend($("frontend-url").value.trim()));
    $("frontend-url").addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
            loadFrontend($("frontend-url").value.trim());
        }
    });
    loadPlugins()
        .then(fillPluginSelect)
        .catch((error) => {
            $("plugin-select").replaceChildren(element("option", { value: "", text: "plugins: " + error.message }));
        });
    if (config.initialUrl) {
        loadFrontend(config.initialUrl);
    }
    if (config.taskId) {
        followTask(config.taskUrl.replace(/\/0\/$/, "/" + config.taskId + "/"));
    }
    window.addEventListener("popstate", () => window.location.reload());
})();
