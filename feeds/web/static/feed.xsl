<?xml version="1.0" encoding="UTF-8"?>
<!--
  Shows our RSS 2.0 and Atom 1.0 feeds as a readable page when opened in a browser.
  Feed readers ignore this stylesheet; it only helps people who click a feed link.
  XSLT 1.0, because that is all browsers run.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="no"
      doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
  <xsl:variable name="description" select="/rss/channel/description | /atom:feed/atom:subtitle"/>
  <xsl:variable name="home"
      select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
  <xsl:variable name="self"
      select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>

  <xsl:template match="/">
    <html lang="{/rss/channel/language | /atom:feed/@xml:lang}">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (web feed)</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
                 padding: 0 1rem; color: #222; }
          .about { background: #fff8e1; border: 1px solid #f0d48a; border-radius: 6px;
                   padding: .75rem 1rem; margin: 1.5rem 0; }
          code { background: #fff; padding: .1rem .3rem; word-break: break-all; }
          ol { list-style: none; padding: 0; }
          li { border-top: 1px solid #ddd; padding: 1rem 0; }
          h2 { font-size: 1.15rem; margin: 0 0 .25rem; }
          time { color: #666; font-size: .9rem; }
          p { margin: .4rem 0 0; }
        </style>
      </head>
      <body>
        <header>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="$description"/></p>
          <xsl:if test="$home">
            <p><a href="{$home}">Visit the website</a></p>
          </xsl:if>
        </header>
        <section class="about">
          <strong>This is a web feed.</strong>
          A feed lets a reader app tell you when something new is published here, without
          visiting the site. To subscribe, copy this page's address
          <xsl:if test="$self">(<code><xsl:value-of select="$self"/></code>)</xsl:if>
          into a feed reader: a reader app on your phone or computer, a web-based reader,
          or the feed support built into many email programs.
        </section>
        <ol>
          <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
        </ol>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <!-- Our RSS dates are always UTC: "Mon, 12 Jan 2026 17:23:05 +0000". -->
      <time><xsl:value-of select="substring(pubDate, 1, 22)"/> UTC</time>
      <!-- The description is HTML (our writer escapes plain-text summaries into it).
           It is shown as text only, never as markup: tags are dropped and the three
           entities our writer produces are decoded, and the result is escaped on
           output like every other value here. -->
      <p>
        <xsl:call-template name="unescape">
          <xsl:with-param name="text">
            <xsl:call-template name="strip-tags">
              <xsl:with-param name="html" select="substring(description, 1, $excerpt)"/>
            </xsl:call-template>
          </xsl:with-param>
        </xsl:call-template>
      </p>
    </li>
  </xsl:template>

  <!-- Enough for a summary; it also bounds the recursion below (one level per tag). -->
  <xsl:variable name="excerpt" select="2000"/>

  <xsl:template name="strip-tags">
    <xsl:param name="html"/>
    <xsl:choose>
      <xsl:when test="contains($html, '&lt;')">
        <xsl:value-of select="substring-before($html, '&lt;')"/>
        <xsl:call-template name="strip-tags">
          <xsl:with-param name="html"
              select="substring-after(substring-after($html, '&lt;'), '&gt;')"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$html"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="unescape">
    <xsl:param name="text"/>
    <xsl:call-template name="replace">
      <xsl:with-param name="text">
        <xsl:call-template name="replace">
          <xsl:with-param name="text">
            <xsl:call-template name="replace">
              <xsl:with-param name="text" select="$text"/>
              <xsl:with-param name="from" select="'&amp;lt;'"/>
              <xsl:with-param name="to" select="'&lt;'"/>
            </xsl:call-template>
          </xsl:with-param>
          <xsl:with-param name="from" select="'&amp;gt;'"/>
          <xsl:with-param name="to" select="'&gt;'"/>
        </xsl:call-template>
      </xsl:with-param>
      <!-- Last, so "&amp;lt;" stays the text "&lt;". -->
      <xsl:with-param name="from" select="'&amp;amp;'"/>
      <xsl:with-param name="to" select="'&amp;'"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="replace">
    <xsl:param name="text"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:choose>
      <xsl:when test="contains($text, $from)">
        <xsl:value-of select="concat(substring-before($text, $from), $to)"/>
        <xsl:call-template name="replace">
          <xsl:with-param name="text" select="substring-after($text, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <h2>
        <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a>
      </h2>
      <!-- Our Atom dates are always UTC: "2026-01-12T17:23:05+00:00". -->
      <time datetime="{atom:published}">
        <xsl:value-of select="substring(atom:published, 1, 10)"/>
        <xsl:text> </xsl:text>
        <xsl:value-of select="substring(atom:published, 12, 5)"/> UTC</time>
      <p><xsl:value-of select="atom:summary"/></p>
    </li>
  </xsl:template>
</xsl:stylesheet>
