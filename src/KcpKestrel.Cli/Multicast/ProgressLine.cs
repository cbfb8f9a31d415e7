using System.Diagnostics;
using System.Globalization;

namespace KcpKestrel.Cli.Multicast;

/// <summary>
/// The live progress line of <c>multicast pub|sub|bench</c>: messages so far, the current rate and NAKs,
/// redrawn in place on standard error while it is a terminal, never written to a redirected stream (the JSON
/// line stays the last line of standard output, and logs stay clean).
/// </summary>
internal static class ProgressLine
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>Awaits <paramref name="work"/>, redrawing the line from <paramref name="sample"/> meanwhile.</summary>
    /// <param name="sample">Messages so far and NAKs so far; read from another thread, so torn reads only blur one redraw.</param>
    public static async Task<T> RunAsync<T>(CliIo io, string label, Func<(long Messages, long Naks)> sample, Task<T> work)
    {
        if (!io.ErrorIsTerminal)
        {
            return await work.ConfigureAwait(false);
        }

        var last = Stopwatch.GetTimestamp();
        var lastMessages = sample().Messages;
        var width = 0;
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(Interval)).ConfigureAwait(false);
            var now = Stopwatch.GetTimestamp();
            var (messages, naks) = sample();
            var rate = (messages - lastMessages) / Math.Max(Stopwatch.GetElapsedTime(last, now).TotalSeconds, 1e-3);
            (last, lastMessages) = (now, messages);
            var line = string.Create(CultureInfo.InvariantCulture, $"{label}: {messages:N0} messages, {rate:N0} msg/s, {naks:N0} NAKs");
            width = Math.Max(width, line.Length);
            await io.Error.WriteAsync("\r" + line.PadRight(width)).ConfigureAwait(false);
            await io.Error.FlushAsync().ConfigureAwait(false);
        }

        if (width > 0)
        {
            // Clear the line so what follows starts at the left margin.
            await io.Error.WriteAsync("\r" + new string(' ', width) + "\r").ConfigureAwait(false);
        }

        return await work.ConfigureAwait(false);
    }
}
