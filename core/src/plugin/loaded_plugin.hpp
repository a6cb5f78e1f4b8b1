#pragma once

#include "plugin/descriptor_check.hpp"
#include "plugin/host.hpp"

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace cppworker::plugin {

// Why a plugin could not be taken into service; the message names the plugin and the problem.
class PluginError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Outcome of a hook that can fail: nothing, or the plugin's message.
using HookError = std::optional<std::string>;

// A plugin loaded, checked and initialised. Every hook call goes through here, so that a plugin
// that throws across the C ABI is contained in one place.
class LoadedPlugin {
public:
    // dlopen (RTLD_NOW | RTLD_LOCAL) and check the descriptor; no plugin code has run yet.
    static std::unique_ptr<LoadedPlugin> load(const std::filesystem::path& path);

    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;

    const PluginShape& shape() const { return shape_; }
    const std::filesystem::path& path() const { return path_; }

    // Main thread, once. Throws PluginError when the plugin refuses.
    void init(Host& host);
    bool ready();
    // Fills `workload` (default 100 when the plugin has no hook).
    HookError workload(const cppw_request_info& info, double& workload);
    HookError handle(const cppw_request_info& info);
    std::vector<metrics::PluginSample> metrics();
    // The JSON payload of benchmark request `index`; empty when the plugin has none to give.
    std::optional<std::string> benchmark_payload(uint32_t index);
    // The `cancel` hook (ABI 1.3): the host gave `id` up. Queued here and delivered on an I/O
    // thread through the poster, never on the caller's (it may be the plugin's own, inside a
    // host service); without a poster (the loops have stopped) they wait for deliver_cancels.
    bool has_cancel_hook() const { return shape_.hooks.cancel != nullptr; }
    void give_up(cppw_request_id id);
    void set_cancel_poster(std::function<void(std::function<void()>)> post);
    void deliver_cancels();
    // The `release_state` hook (ABI 1.3); any thread.
    void release_state(void* request_state);
    // Main thread, once, after the last request and deliver_cancels; later calls do nothing.
    void finalize();

private:
    LoadedPlugin(std::filesystem::path path, boost::dll::shared_library library, PluginShape shape);

    std::filesystem::path path_;
    // The object itself is pinned (RTLD_NODELETE): releasing this handle never unmaps plugin code.
    boost::dll::shared_library library_;
    PluginShape shape_;
    void* state_ = nullptr;
    bool initialised_ = false;
    std::mutex cancels_mutex_;
    std::vector<cppw_request_id> cancels_;
    std::function<void(std::function<void()>)> post_cancels_;
};

}  // namespace cppworker::plugin
