using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Middleware.Tests.Infrastructure;

/// <summary>A client connection over either transport as a plain <see cref="Stream"/>.</summary>
public sealed class TestClient : IAsyncDisposable
{
    private readonly Socket? _socket;
    private readonly ConnectionContext? _kcp;
    private bool _refusedAtConnect;

    private TestClient(Stream stream, Socket? socket, ConnectionContext? kcp)
    {
        Stream = stream;
        _socket = socket;
        _kcp = kcp;
    }

    public Stream Stream { get; }

    public static TestClient ForKcp(ConnectionContext connection) =>
        new(new DuplexPipeStream(connection.Transport), null, connection);

    public static async Task<TestClient> ConnectTcpAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // The server accepted and refused at once: the reset beat the connect's completion.
            socket.Dispose();
            return new TestClient(Stream.Null, null, null) { _refusedAtConnect = true };
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new TestClient(new NetworkStream(socket, ownsSocket: false), socket, null);
    }

    /// <summary>
    /// Reads the handler's greeting: true when it arrives (the middleware let the connection through),
    /// false when the server closed the connection first (refused).
    /// </summary>
    public async Task<bool> ReadGreetingAsync(TimeSpan timeout)
    {
        if (_refusedAtConnect)
        {
            return false;
        }

        using var cts = new CancellationTokenSource(timeout);
        var one = new byte[1];
        try
        {
            var n = await Stream.ReadAsync(one, cts.Token);
            return n == 1 && one[0] == GreetingEchoHandler.Greeting;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionAbortedException or ConnectionResetException)
        {
            return false;
        }
    }

    /// <summary>True when the server has closed the connection (end of stream or reset) within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitClosedAsync(TimeSpan timeout)
    {
        if (_refusedAtConnect)
        {
            return true;
        }

        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await Stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionAbortedException or ConnectionResetException)
        {
            return true;
        }
    }

    /// <summary>Sends <paramref name="data"/> and reads the same number of echoed bytes back.</summary>
    public async Task<byte[]> EchoAsync(byte[] data, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await Stream.WriteAsync(data, cts.Token);
        await Stream.FlushAsync(cts.Token);
        var back = new byte[data.Length];
        await Stream.ReadExactlyAsync(back, cts.Token);
        return back;
    }

    public async ValueTask DisposeAsync()
    {
        if (_kcp is not null)
        {
            await _kcp.Transport.Output.CompleteAsync();
            await _kcp.DisposeAsync();
        }
        else if (_socket is not null)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // Already reset by the server.
            }

            await Stream.DisposeAsync();
            _socket.Dispose();
        }
    }

    private sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
    {
        private readonly Stream _input = pipe.Input.AsStream();
        private readonly Stream _output = pipe.Output.AsStream();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => _output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _output.WriteAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
