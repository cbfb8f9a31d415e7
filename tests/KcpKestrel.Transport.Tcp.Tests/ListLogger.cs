using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>Keeps every entry logged to it, for tests that check what was logged and how often.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, EventId EventId, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, exception));

    /// <summary>How many entries carry the event <paramref name="eventName"/> (by name: ids are per library and Kestrel's overlap ours).</summary>
    public int Count(string eventName) => Entries.Count(e => e.EventId.Name == eventName);
}
