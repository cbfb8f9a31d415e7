using System.Text;
using KcpKestrel.Protocols.Qpp;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Kcp.Multiplexing;

/// <summary>
/// Builds the QPP pads of a listener or client factory (<see cref="KcpOptions.Qpp"/>), once: deriving them runs PBKDF2 and
/// AES many times, far too slow for each session or stream. As kcptun, the seed is the raw UTF-8 key, and one pad set
/// serves every session and stream; each stream then gets its own random streams (<see cref="QppDuplexPipe"/>).
/// </summary>
internal static partial class QppStreams
{
    /// <summary>The pads for <paramref name="options"/>, or null when QPP is off; kcptun's warnings go to <paramref name="logger"/>.</summary>
    public static QppPad? CreatePad(KcpOptions options, ILogger logger)
    {
        if (!options.Qpp)
        {
            return null;
        }

        var key = Encoding.UTF8.GetBytes(options.Key ?? string.Empty);
        var qpp = new QppOptions { PadCount = options.QppCount };
        foreach (var warning in qpp.GetWarnings(key))
        {
            LogWarning(logger, warning);
        }

        return new QppPad(key, qpp);
    }

    [LoggerMessage(40, LogLevel.Warning, "{Warning} (kcptun gives the same warning; QPP still works.)")]
    private static partial void LogWarning(ILogger logger, string warning);
}
