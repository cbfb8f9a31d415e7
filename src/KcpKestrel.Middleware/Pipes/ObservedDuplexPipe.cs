using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Middleware.Pipes;

/// <summary>
/// A connection's transport with its directions passed through sets of <see cref="IPipeObserver"/>s. Middlewares
/// that follow one another on a connection share one wrapper (<see cref="Attach"/>): byte counts, bandwidth throttle,
/// idle watch and hex dump cost one extra layer per read and write, not one each. A middleware behind
/// <c>UseHttps</c> sees a different transport (the TLS stream's pipes) and gets a wrapper of its own.
/// </summary>
internal sealed class ObservedDuplexPipe : IDuplexPipe
{
    private readonly PipeObserverSet _input = new();
    private readonly PipeObserverSet _output = new();

    private ObservedDuplexPipe(IDuplexPipe inner, TimeProvider timeProvider)
    {
        Inner = inner;
        TimeProvider = timeProvider;
        Input = new ObservedPipeReader(inner.Input, _input, timeProvider);
        Output = new ObservedPipeWriter(inner.Output, _output, timeProvider);
    }

    public IDuplexPipe Inner { get; }

    public TimeProvider TimeProvider { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>
    /// Adds <paramref name="observer"/> to the connection's transport: to the wrapper already there when it is ours
    /// and runs on the same clock, else to a new wrapper that becomes <see cref="ConnectionContext.Transport"/>.
    /// Undo with <see cref="Detach"/> when the middleware returns.
    /// </summary>
    public static ObservedDuplexPipe Attach(ConnectionContext context, IPipeObserver observer, TimeProvider timeProvider, bool observeInput = true, bool observeOutput = true)
    {
        if (context.Transport is not ObservedDuplexPipe pipe || !ReferenceEquals(pipe.TimeProvider, timeProvider))
        {
            pipe = new ObservedDuplexPipe(context.Transport, timeProvider);
            context.Transport = pipe;
        }

        pipe.Add(observer, observeInput, observeOutput);
        return pipe;
    }

    /// <summary>Removes <paramref name="observer"/>; the last one out puts the inner transport back.</summary>
    public void Detach(ConnectionContext context, IPipeObserver observer)
    {
        _input.Remove(observer);
        _output.Remove(observer);
        if (_input.Count == 0 && _output.Count == 0 && ReferenceEquals(context.Transport, this))
        {
            context.Transport = Inner;
        }
    }

    private void Add(IPipeObserver observer, bool observeInput, bool observeOutput)
    {
        if (observeInput)
        {
            _input.Add(observer);
        }

        if (observeOutput)
        {
            _output.Add(observer);
        }
    }
}
