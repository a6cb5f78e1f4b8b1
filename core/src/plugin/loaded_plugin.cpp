#include "plugin/loaded_plugin.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cstring>

#include <dlfcn.h>
#include <exception>

namespace cppworker::plugin {
namespace {

constexpr std::size_t error_capacity = 1024;

struct ErrorBuffer {
    std::array<char, error_capacity> text{};
    cppw_error_buf buf() { return cppw_error_buf{text.data(), text.size()}; }
    std::string message(std::string_view fallback) const {
        std::string_view s(text.data(), ::strnlen(text.data(), text.size()));
        return s.empty() ? std::string(fallback) : std::string(s);
    }
};

std::string describe_current_exception() {
    try {
        throw;
    } catch (const std::exception& e) {
        return fmt::format("the plugin let an exception cross the C ABI: {}", e.what());
    } catch (...) {
        return "the plugin let an exception cross the C ABI";
    }
}

}  // namespace

std::unique_ptr<LoadedPlugin> LoadedPlugin::load(const std::filesystem::path& path) {
    namespace dll = boost::dll;
    if (!std::filesystem::exists(path)) {
        throw PluginError(fmt::format("plugin {}: no such file", path.string()));
    }
    dll::shared_library library;
    boost::dll::fs::error_code ec;
    ::dlerror();
    library.load(path.string(), ec, dll::load_mode::rtld_now | dll::load_mode::rtld_local);
    if (ec) {
        // Boost.DLL reports every dlopen failure as "bad file descriptor"; dlerror has the cause.
        const char* why = ::dlerror();
        throw PluginError(fmt::format("plugin {}: cannot be loaded: {}", path.string(), why ? why : ec.message()));
    }
    // Pin the object: code of a plugin that failed to join its threads must stay mapped until exit.
    ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    if (!library.has(CPPW_DESCRIPTOR_SYMBOL)) {
        throw PluginError(fmt::format("plugin {}: exports no '{}' symbol (not a cppworker plugin)", path.string(),
                                      CPPW_DESCRIPTOR_SYMBOL));
    }
    const auto& descriptor = library.get<const cppw_plugin_descriptor>(CPPW_DESCRIPTOR_SYMBOL);
    auto checked = check_descriptor(descriptor);
    if (auto* err = std::get_if<std::string>(&checked)) {
        throw PluginError(fmt::format("plugin {}: refused: descriptor {}", path.string(), *err));
    }
    return std::unique_ptr<LoadedPlugin>(
        new LoadedPlugin(path, std::move(library), std::move(std::get<PluginShape>(checked))));
}

LoadedPlugin::LoadedPlugin(std::filesystem::path path, boost::dll::shared_library library, PluginShape shape)
    : path_(std::move(path)), library_(std::move(library)), shape_(std::move(shape)) {}

LoadedPlugin::~LoadedPlugin() { finalize(); }

void LoadedPlugin::init(Host& host) {
    host.set_plugin_abi_minor(shape_.abi_minor);
    if (shape_.hooks.init != nullptr) {
        ErrorBuffer error;
        cppw_status status;
        try {
            status = shape_.hooks.init(host.services(), &state_, error.buf());
        } catch (...) {
            throw PluginError(fmt::format("plugin {}: init failed: {}", shape_.name, describe_current_exception()));
        }
        if (status != CPPW_OK) {
            throw PluginError(fmt::format("plugin {}: init failed (status {}): {}", shape_.name,
                                          static_cast<int>(status), error.message("no message given")));
        }
    }
    initialised_ = true;
    if (shape_.hooks.release_state != nullptr) {
        host.registry().set_state_release([this](void* request_state) { release_state(request_state); });
    }
}

bool LoadedPlugin::ready() {
    if (shape_.hooks.ready == nullptr) return initialised_;
    try {
        return shape_.hooks.ready(state_) != 0;
    } catch (...) {
        return false;
    }
}

HookError LoadedPlugin::workload(const cppw_request_info& info, double& workload) {
    workload = 100.0;
    if (shape_.hooks.workload == nullptr) return std::nullopt;
    ErrorBuffer error;
    try {
        if (shape_.hooks.workload(state_, &info, &workload, error.buf()) != CPPW_OK) {
            return error.message("the plugin could not size the request");
        }
    } catch (...) {
        return describe_current_exception();
    }
    return std::nullopt;
}

HookError LoadedPlugin::handle(const cppw_request_info& info) {
    ErrorBuffer error;
    try {
        if (shape_.hooks.handle(state_, &info, error.buf()) != CPPW_OK) {
            return error.message("the plugin refused the request");
        }
    } catch (...) {
        return describe_current_exception();
    }
    return std::nullopt;
}

std::vector<metrics::PluginSample> LoadedPlugin::metrics() {
    MetricsSink sink;
    if (shape_.hooks.metrics == nullptr) return {};
    try {
        shape_.hooks.metrics(state_, reinterpret_cast<cppw_metrics_sink*>(&sink));
    } catch (...) {
        spdlog::warn("{}", describe_current_exception());
    }
    return std::move(sink.samples);
}

std::optional<std::string> LoadedPlugin::benchmark_payload(uint32_t index) {
    if (shape_.hooks.benchmark == nullptr) return std::nullopt;
    PayloadSink sink;
    try {
        if (shape_.hooks.benchmark(state_, index, reinterpret_cast<cppw_payload_sink*>(&sink)) != CPPW_OK) {
            return std::nullopt;
        }
    } catch (...) {
        spdlog::warn("{}", describe_current_exception());
        return std::nullopt;
    }
    return std::move(sink.json);
}

void LoadedPlugin::give_up(cppw_request_id id) {
    if (shape_.hooks.cancel == nullptr) return;
    std::function<void(std::function<void()>)> post;
    {
        std::lock_guard lock(cancels_mutex_);
        cancels_.push_back(id);
        // One delivery pass serves every id queued before it runs.
        if (cancels_.size() == 1) post = post_cancels_;
    }
    if (post) post([this] { deliver_cancels(); });
}

void LoadedPlugin::set_cancel_poster(std::function<void(std::function<void()>)> post) {
    std::lock_guard lock(cancels_mutex_);
    post_cancels_ = std::move(post);
}

void LoadedPlugin::deliver_cancels() {
    std::vector<cppw_request_id> ids;
    {
        std::lock_guard lock(cancels_mutex_);
        ids.swap(cancels_);
    }
    if (!initialised_) return;
    for (const auto id : ids) {
        try {
            shape_.hooks.cancel(state_, id);
        } catch (...) {
            spdlog::warn("plugin {}: cancel hook for request {}: {}", shape_.name, id, describe_current_exception());
        }
    }
}

void LoadedPlugin::release_state(void* request_state) {
    if (shape_.hooks.release_state == nullptr || !initialised_) return;
    try {
        shape_.hooks.release_state(state_, request_state);
    } catch (...) {
        spdlog::warn("plugin {}: release_state hook: {}", shape_.name, describe_current_exception());
    }
}

void LoadedPlugin::finalize() {
    if (!initialised_) return;
    initialised_ = false;
    if (shape_.hooks.finalize == nullptr) return;
    try {
        shape_.hooks.finalize(state_);
    } catch (...) {
        // Nothing to answer any more; the exception is only worth a note on stderr.
        std::fputs(describe_current_exception().c_str(), stderr);
    }
}

}  // namespace cppworker::plugin
