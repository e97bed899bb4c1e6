// Leveled logging to stderr, one line per event. Never pass secrets to it.
#pragma once

#include <string>

namespace dtr::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(const std::string& name);
bool Enabled(Level level);
void Write(Level level, const std::string& message);

inline void Info(const std::string& m) { Write(Level::kInfo, m); }
inline void Warn(const std::string& m) { Write(Level::kWarn, m); }
inline void Error(const std::string& m) { Write(Level::kError, m); }
inline void Debug(const std::string& m) { Write(Level::kDebug, m); }

}  // namespace dtr::log
