<?xml version="1.0" encoding="UTF-8"?>
<!-- What of a MARC 21 bibliographic record goes into which Zebra index (DOM filter extract).
     Index names are those of Bib-1 (/usr/share/idzebra-2.0/tab/bib1.att), so Z39.50 clients
     and cql.properties (SRU) reach them by use attribute; the letter after the colon is the
     index type of shiori.idx (w words, p complete field, 0 identifier).
     880 fields count as the field their $6 links to (JAPAN/MARC: readings and romanisation;
     LC: the vernacular script). -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:marc="http://www.loc.gov/MARC21/slim"
    xmlns:z="http://indexdata.com/zebra-2.0">
  <xsl:output method="xml" version="1.0" encoding="UTF-8" indent="yes"/>

  <xsl:template match="text()"/>

  <xsl:template match="/">
    <xsl:apply-templates select="marc:record | marc:collection/marc:record"/>
  </xsl:template>

  <xsl:template match="marc:record">
    <z:record z:type="update">
      <xsl:call-template name="control"/>
      <xsl:call-template name="title"/>
      <xsl:call-template name="author"/>
      <xsl:call-template name="identifiers"/>
      <xsl:call-template name="dates"/>
      <xsl:for-each select="marc:datafield[@tag='260' or @tag='264']/marc:subfield[@code='b']
                            | marc:datafield[@tag='880'][starts-with(marc:subfield[@code='6'], '260') or starts-with(marc:subfield[@code='6'], '264')]/marc:subfield[@code='b']">
        <z:index name="Publisher:w"><xsl:value-of select="."/></z:index>
      </xsl:for-each>
      <xsl:for-each select="marc:datafield[starts-with(@tag, '6')]
                            | marc:datafield[@tag='880'][starts-with(marc:subfield[@code='6'], '6')]">
        <z:index name="Subject-heading:w">
          <xsl:call-template name="subfields"><xsl:with-param name="codes" select="'abcdvxyz'"/></xsl:call-template>
        </z:index>
      </xsl:for-each>
      <!-- Any (cql.serverChoice): the text of every data field but the linkage and codes, as
           one text per record (a term per field would tokenise each field apart, and
           Zebra builds the word chain's ICU transliterator anew for every term: 5 times
           slower to index; the price is that a phrase may span two fields). -->
      <z:index name="Any:w">
        <xsl:for-each select="marc:datafield/marc:subfield[not(@code='6' or @code='0' or @code='2' or @code='4' or @code='5' or @code='8')]">
          <xsl:value-of select="."/><xsl:text> | </xsl:text>
        </xsl:for-each>
      </z:index>
    </z:record>
  </xsl:template>

  <!-- The subfields of the current field whose codes are listed, space separated. -->
  <xsl:template name="subfields">
    <xsl:param name="codes"/>
    <xsl:for-each select="marc:subfield[contains($codes, @code)]">
      <xsl:if test="position() &gt; 1"><xsl:text> </xsl:text></xsl:if>
      <xsl:value-of select="."/>
    </xsl:for-each>
  </xsl:template>

  <xsl:template name="control">
    <xsl:for-each select="marc:controlfield[@tag='001']">
      <z:index name="Local-number:0 Local-number:w"><xsl:value-of select="normalize-space(.)"/></z:index>
    </xsl:for-each>
  </xsl:template>

  <!-- Title: 245 $a $b $f $g $k $n $p $s (not $c, $h), 246, 130/240/730/740, and their 880s;
       complete-field (exact) titles: 245 $a alone and 245 $a $b $n $p. -->
  <xsl:template name="title">
    <xsl:for-each select="marc:datafield[@tag='245' or @tag='246' or @tag='130' or @tag='240' or @tag='730' or @tag='740']
                          | marc:datafield[@tag='880'][starts-with(marc:subfield[@code='6'], '245') or starts-with(marc:subfield[@code='6'], '246')
                             or starts-with(marc:subfield[@code='6'], '130') or starts-with(marc:subfield[@code='6'], '240')
                             or starts-with(marc:subfield[@code='6'], '730') or starts-with(marc:subfield[@code='6'], '740')]">
      <z:index name="Title:w">
        <xsl:call-template name="subfields"><xsl:with-param name="codes" select="'abfgknps'"/></xsl:call-template>
      </z:index>
    </xsl:for-each>
    <xsl:for-each select="marc:datafield[@tag='245']
                          | marc:datafield[@tag='880'][starts-with(marc:subfield[@code='6'], '245')]">
      <z:index name="Title:p"><xsl:value-of select="marc:subfield[@code='a']"/></z:index>
      <z:index name="Title:p">
        <xsl:call-template name="subfields"><xsl:with-param name="codes" select="'abnp'"/></xsl:call-template>
      </z:index>
    </xsl:for-each>
  </xsl:template>

  <!-- Author (dc.creator): 100/110/111/700/710/711 and their 880s: names without dates,
       relators or linkage. -->
  <xsl:template name="author">
    <xsl:for-each select="marc:datafield[@tag='100' or @tag='110' or @tag='111' or @tag='700' or @tag='710' or @tag='711']
                          | marc:datafield[@tag='880'][starts-with(marc:subfield[@code='6'], '100') or starts-with(marc:subfield[@code='6'], '110')
                             or starts-with(marc:subfield[@code='6'], '111') or starts-with(marc:subfield[@code='6'], '700')
                             or starts-with(marc:subfield[@code='6'], '710') or starts-with(marc:subfield[@code='6'], '711')]">
      <z:index name="Author:w Author:p">
        <xsl:call-template name="subfields"><xsl:with-param name="codes" select="'abcnq'"/></xsl:call-template>
      </z:index>
    </xsl:for-each>
  </xsl:template>

  <xsl:template name="identifiers">
    <xsl:for-each select="marc:datafield[@tag='020']/marc:subfield[@code='a']">
      <xsl:variable name="first" select="substring-before(concat(normalize-space(.), ' '), ' ')"/>
      <xsl:variable name="isbn" select="translate($first, translate($first, '0123456789Xx', ''), '')"/>
      <!-- as stored (word index: a hyphenated ISBN is a phrase of its parts) -->
      <z:index name="ISBN:w Identifier-standard:w"><xsl:value-of select="$first"/></z:index>
      <xsl:if test="string-length($isbn) = 10 or string-length($isbn) = 13">
        <z:index name="ISBN:0 ISBN:w Identifier-standard:0"><xsl:value-of select="$isbn"/></z:index>
      </xsl:if>
      <!-- the other form, so a 13-digit query finds a record catalogued with ISBN-10 -->
      <xsl:if test="string-length($isbn) = 10">
        <xsl:variable name="d" select="concat('978', substring($isbn, 1, 9))"/>
        <xsl:variable name="sum" select="substring($d,1,1) + 3 * substring($d,2,1) + substring($d,3,1) + 3 * substring($d,4,1)
            + substring($d,5,1) + 3 * substring($d,6,1) + substring($d,7,1) + 3 * substring($d,8,1)
            + substring($d,9,1) + 3 * substring($d,10,1) + substring($d,11,1) + 3 * substring($d,12,1)"/>
        <xsl:if test="string($sum) != 'NaN'">
          <z:index name="ISBN:0 ISBN:w Identifier-standard:0"><xsl:value-of select="concat($d, (10 - $sum mod 10) mod 10)"/></z:index>
        </xsl:if>
      </xsl:if>
      <xsl:if test="string-length($isbn) = 13 and starts-with($isbn, '978')">
        <xsl:variable name="b" select="substring($isbn, 4, 9)"/>
        <xsl:variable name="sum" select="substring($b,1,1) + 2 * substring($b,2,1) + 3 * substring($b,3,1) + 4 * substring($b,4,1)
            + 5 * substring($b,5,1) + 6 * substring($b,6,1) + 7 * substring($b,7,1) + 8 * substring($b,8,1) + 9 * substring($b,9,1)"/>
        <xsl:if test="string($sum) != 'NaN'">
          <xsl:variable name="check" select="$sum mod 11"/>
          <z:index name="ISBN:0 ISBN:w Identifier-standard:0">
            <xsl:value-of select="$b"/>
            <xsl:choose>
              <xsl:when test="$check = 10">x</xsl:when>
              <xsl:otherwise><xsl:value-of select="$check"/></xsl:otherwise>
            </xsl:choose>
          </z:index>
        </xsl:if>
      </xsl:if>
    </xsl:for-each>
    <xsl:for-each select="marc:datafield[@tag='022']/marc:subfield[@code='a']">
      <z:index name="ISSN:0 ISSN:w Identifier-standard:0"><xsl:value-of select="normalize-space(.)"/></z:index>
    </xsl:for-each>
    <xsl:for-each select="marc:datafield[@tag='010']/marc:subfield[@code='a']">
      <z:index name="LC-card-number:0 LC-card-number:w"><xsl:value-of select="normalize-space(.)"/></z:index>
    </xsl:for-each>
    <xsl:for-each select="marc:datafield[@tag='015' or @tag='024']/marc:subfield[@code='a']">
      <z:index name="Identifier-standard:0"><xsl:value-of select="normalize-space(.)"/></z:index>
    </xsl:for-each>
  </xsl:template>

  <!-- Date of publication: 008/07-10 when it is a year, else the first 260/264 $c. -->
  <xsl:template name="dates">
    <xsl:variable name="y008" select="substring(marc:controlfield[@tag='008'], 8, 4)"/>
    <xsl:choose>
      <xsl:when test="string-length($y008) = 4 and translate($y008, '0123456789', '') = ''">
        <z:index name="Date-of-publication:w Date-of-publication:n Date:w Date:n"><xsl:value-of select="$y008"/></z:index>
      </xsl:when>
      <xsl:otherwise>
        <xsl:for-each select="(marc:datafield[@tag='260' or @tag='264']/marc:subfield[@code='c'])[1]">
          <z:index name="Date-of-publication:w Date:w"><xsl:value-of select="."/></z:index>
        </xsl:for-each>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
