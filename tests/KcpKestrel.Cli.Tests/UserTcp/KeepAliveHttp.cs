using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// One kept-alive HTTP/1.1 connection from a kernel socket in the namespace, its 4-tuple known (the hostile tests
/// aim forged segments at it) and each request checked by hand.
/// </summary>
internal sealed class KeepAliveHttp : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private KeepAliveHttp(Socket socket) => _socket = socket;

    /// <summary>The kernel's end: the address and port forged segments pretend to come from.</summary>
    public IPEndPoint Local => (IPEndPoint)_socket.LocalEndPoint!;

    public static async Task<KeepAliveHttp> OpenAsync(NetNamespace ns) => new(await KernelClient.ConnectAsync(ns, UserTcpServe.EndPoint));

    /// <summary>GET /plaintext on this connection: must answer 200 "Hello, World!" within 20 s.</summary>
    public async Task AssertAliveAsync()
    {
        using var timeout = new CancellationTokenSource(TestWaits.Bound);
        await _socket.SendAsync(Encoding.ASCII.GetBytes("GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"), timeout.Token);
        var head = await ReadHeadAsync(timeout.Token);
        Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
        var lengthLine = head.Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        var length = int.Parse(lengthLine["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
        while (_end - _start < length)
        {
            await FillAsync(timeout.Token);
        }

        Assert.Equal("Hello, World!", Encoding.ASCII.GetString(_buffer, _start, length));
        _start += length;
    }

    /// <summary>
    /// Closes gracefully: a FIN, then reads until the server's FIN (bounded), so the stack has closed its side before
    /// the test stops serve and the stop JSON's <c>aborted</c> counts only connections something leaked.
    /// </summary>
    public async Task CloseAsync()
    {
        using var timeout = new CancellationTokenSource(TestWaits.Bound);
        _socket.Shutdown(SocketShutdown.Send);
        while (await _socket.ReceiveAsync(_buffer, timeout.Token) > 0)
        {
        }

        _socket.Dispose();
    }

    public void Dispose() => _socket.Dispose();

    private async Task<string> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var head = Encoding.ASCII.GetString(_buffer, _start, end);
                _start += end + 4;
                return head;
            }

            await FillAsync(cancellationToken);
        }
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            (_end, _start) = (_end - _start, 0);
        }

        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), cancellationToken);
        Assert.True(read > 0, "the connection was closed");
        _end += read;
    }
}
