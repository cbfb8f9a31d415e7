using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using KcpKestrel.Middleware.Internal;
using KcpKestrel.Middleware.Pipes;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Benchmarks.Middleware;

/// <summary>
/// One keep-alive request/response cycle as Kestrel's HTTP/1.1 drives a connection's transport: the app's
/// read is pending when the request arrives, the response is written and flushed, the transport drains it.
/// Raw transport pipes against the same pipes under every per-request layer of the middleware set (byte
/// counts, bandwidth throttle, idle watch); the other pieces work once per connection.
/// </summary>
[MemoryDiagnoser]
public class ConnectionPipeBenchmarks
{
    private static readonly byte[] Request = new byte[110];
    private static readonly byte[] Response = new byte[130];

    private Pipe _input = null!;
    private Pipe _output = null!;
    private IDuplexPipe _app = null!;
    private ConnectionTimeoutWatch? _watch;

    [Params(false, true)]
    public bool Middleware { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        _input = new Pipe(options);
        _output = new Pipe(options);
        IDuplexPipe transport = new Transport(_input.Reader, _output.Writer);
        if (Middleware)
        {
            var clock = TimeProvider.System;
            var context = new DefaultConnectionContext("bench");
            _watch = new ConnectionTimeoutWatch(context, ConnectionCloseReasonFeature.GetOrAdd(context), TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), clock);
            // As the middlewares do on one connection: every observer joins the same wrapper.
            context.Transport = transport;
            ObservedDuplexPipe.Attach(context, new ByteCountObserver(), clock);
            ObservedDuplexPipe.Attach(context, new ThrottleObserver(1L << 30, 100L << 20, clock), clock);
            ObservedDuplexPipe.Attach(context, _watch, clock, observeInput: true, observeOutput: false);
            transport = context.Transport;
        }

        _app = transport;
    }

    [GlobalCleanup]
    public void Cleanup() => _watch?.Dispose();

    [Benchmark]
    public async Task RequestResponse()
    {
        var read = _app.Input.ReadAsync();
        await _input.Writer.WriteAsync(Request);
        var request = await read;
        _app.Input.AdvanceTo(request.Buffer.End);

        _app.Output.Write(Response);
        await _app.Output.FlushAsync();
        var response = await _output.Reader.ReadAsync();
        _output.Reader.AdvanceTo(response.Buffer.End);
    }

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
