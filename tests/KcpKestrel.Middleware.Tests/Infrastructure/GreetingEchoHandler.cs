using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Middleware.Tests.Infrastructure;

/// <summary>
/// Writes one greeting byte (so a client knows it got past the middleware), then echoes until the peer
/// completes. Counts accepted connections per listening port and keeps the errors it saw.
/// </summary>
public sealed class GreetingEchoHandler : ConnectionHandler
{
    public const byte Greeting = (byte)'A';

    private readonly ConcurrentDictionary<int, int> _accepted = new();
    private int _open;

    public ConcurrentQueue<Exception> Errors { get; } = new();

    public int Open => Volatile.Read(ref _open);

    public int AcceptedOn(int port) => _accepted.TryGetValue(port, out var n) ? n : 0;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var port = connection.LocalEndPoint is IPEndPoint ip ? ip.Port : 0;
        _accepted.AddOrUpdate(port, 1, static (_, n) => n + 1);
        Interlocked.Increment(ref _open);
        try
        {
            await connection.Transport.Output.WriteAsync(new[] { Greeting });
            await connection.Transport.Input.CopyToAsync(connection.Transport.Output);
            await connection.Transport.Output.CompleteAsync();
        }
        catch (Exception ex) when (ex is ConnectionAbortedException or ConnectionResetException or OperationCanceledException or IOException or InvalidOperationException)
        {
            Errors.Enqueue(ex);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }
}
